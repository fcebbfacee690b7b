"""Sweeps: the same aggregates from any executor, in any order, after any interruption."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.aggregate import aggregate, figure_stats, pass_rate, write_aggregates
from harness.cli import main
from harness.sweep import (
    SweepError,
    SweepInterrupted,
    SweepPlan,
    execute,
    open_executor,
    parse_variation,
    plan,
    read_plan,
    read_results,
    start,
)
from reports.sweep import write_sweep_report
from tests.markdown_parse import parse_markdown

#: Half a day of the seed scenario's traffic and a quarter day to drain: about a second a run.
SHORT = ("duration=12h", "drain=6h")
MTBF = parse_variation("erp.outages.mtbf=6h,3d")


@pytest.fixture(scope="module")
def small_plan() -> SweepPlan:
    return plan("subscription_amendment", "reference", [0, 1], [MTBF], SHORT)


def _sweep(small_plan: SweepPlan, out: Path, executor: Any, workers: int) -> dict[str, Any]:
    directory = start(small_plan, out)
    results = execute(directory, executor, workers)
    return aggregate(small_plan, results)


def _bytes(aggregates: dict[str, Any]) -> str:
    return json.dumps(aggregates, indent=2, sort_keys=True)


@pytest.fixture(scope="module")
def pooled(small_plan: SweepPlan, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The small sweep on a local process pool of two workers."""
    with open_executor("process", 2) as (executor, workers):
        return _sweep(small_plan, tmp_path_factory.mktemp("pool"), executor, workers)


def test_a_dask_local_cluster_gives_the_process_pools_aggregates(
    small_plan: SweepPlan, pooled: dict[str, Any], tmp_path: Path
) -> None:
    with open_executor("dask://local", 2) as (executor, workers):
        assert workers == 2
        on_dask = _sweep(small_plan, tmp_path, executor, workers)
    assert _bytes(on_dask) == _bytes(pooled)
    assert on_dask["runs"] == {"planned": 4, "finished": 4}


def test_aggregates_do_not_depend_on_the_order_runs_finish_in(
    small_plan: SweepPlan, pooled: dict[str, Any], tmp_path: Path
) -> None:
    with ThreadPoolExecutor(1) as executor:  # one at a time, in this process
        directory = start(small_plan, tmp_path)
        results = execute(directory, executor, 1, batch_size=3)
    assert _bytes(aggregate(small_plan, list(reversed(results)))) == _bytes(pooled)


def test_the_varied_parameter_changes_what_the_runs_see(pooled: dict[str, Any]) -> None:
    often, rarely = pooled["points"]
    assert often["settings"] == {"erp.outages.mtbf": "6h"}
    assert rarely["settings"] == {"erp.outages.mtbf": "3d"}
    # ERP down every few hours holds more quotes: the end-to-end tail grows.
    assert (
        often["figures"]["end_to_end.p95_s"]["mean"] > rarely["figures"]["end_to_end.p95_s"]["mean"]
    )
    assert often["slo"]["billing_to_support.p95_s"] == 600.0
    assert pooled["by_parameter"]["erp.outages.mtbf"]["6h"]["runs"] == 2


class _StopAfter:
    """A progress callback that interrupts the sweep after `batches` batches, as Ctrl-C does."""

    def __init__(self, batches: int) -> None:
        self.left = batches

    def __call__(self, done: int, total: int, batch: Sequence[dict[str, Any]]) -> None:
        if batch:
            self.left -= 1
            if self.left == 0:
                raise KeyboardInterrupt


def test_an_interrupted_sweep_keeps_what_finished_and_resumes_to_the_same_aggregates(
    small_plan: SweepPlan, pooled: dict[str, Any], tmp_path: Path
) -> None:
    directory = start(small_plan, tmp_path)
    with ThreadPoolExecutor(1) as executor, pytest.raises(SweepInterrupted) as stopped:
        execute(directory, executor, 1, batch_size=1, progress=_StopAfter(1))
    assert stopped.value.total == 4
    kept = read_results(directory)
    assert 1 <= len(kept) < 4
    # seed-major order: the first run finished is point 0, seed 0
    assert (kept[0]["point"], kept[0]["seed"]) == (0, 0)
    with (directory / "results.jsonl").open("a", encoding="utf-8") as results:
        results.write('{"point": 1, "seed": 1, "stat')  # a line cut short by kill -9
    assert len(read_results(directory)) == len(kept)

    finished: list[tuple[int, int]] = []
    with ThreadPoolExecutor(1) as executor:
        resumed = execute(
            directory, executor, 1,
            progress=lambda d, t, b: finished.extend((r["point"], r["seed"]) for r in b),
        )  # fmt: skip
    assert len(resumed) == 4
    assert not set(finished) & {(r["point"], r["seed"]) for r in kept}  # nothing ran twice
    assert _bytes(aggregate(read_plan(directory), resumed)) == _bytes(pooled)


def test_the_cli_sweeps_resumes_and_writes_its_report(tmp_path: Path) -> None:
    args = ["sweep", "subscription_amendment", "--seeds", "2", "--vary", "erp.outages.mtbf=6h,3d",
            "--set", SHORT[0], "--set", SHORT[1], "--workers", "2",
            "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    directory = next((tmp_path / "subscription_amendment" / "sweep").iterdir())
    assert re.search(r"erp.outages.mtbf=6h  \d/2 ", result.output)
    for name in (
        "sweep.html",
        "sweep.md",
        "aggregates.json",
        "charts/billing_to_support-p95_s.png",
    ):
        assert (directory / name).is_file(), name
    markdown = parse_markdown((directory / "sweep.md").read_text(encoding="utf-8"))
    figures, passed = markdown.tables
    assert figures[0][3:] == ["erp.outages.mtbf=6h", "erp.outages.mtbf=3d"]
    assert figures[1][:3] == ["Billing → support window p95", "minutes", "10"]
    assert passed[-1][0] == "every checker"
    assert all(image.startswith("charts/") for image in markdown.images)
    html = (directory / "sweep.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(markdown.images)

    # A resumed sweep with nothing left to do writes the same aggregates again.
    before = (directory / "aggregates.json").read_bytes()
    again = CliRunner().invoke(main, ["sweep", "--resume", str(directory), "--workers", "1"])
    assert again.exit_code == 0, again.output
    assert (directory / "aggregates.json").read_bytes() == before


def test_a_broken_design_shows_in_the_pass_rates(tmp_path: Path) -> None:
    broken = plan("subscription_amendment", "tests.broken_designs:NaiveConsumer",
                  [0, 1], (), SHORT)  # fmt: skip
    directory = start(broken, tmp_path)
    with ThreadPoolExecutor(1) as executor:
        aggregates = write_aggregates(directory, broken, execute(directory, executor, 1))
    point = aggregates["points"][0]
    assert point["checkers"]["effect_once"]["rate"] == 0.0
    assert point["figures"]["effect_once.duplicates"]["min"] > 0
    assert point["passed"]["passed"] == 0
    write_sweep_report(directory)
    markdown = parse_markdown((directory / "sweep.md").read_text(encoding="utf-8"))
    effect_once = next(row for row in markdown.tables[1] if row[0] == "effect_once")
    assert effect_once[1].startswith("0/2 (0%, CI 0%–")


def test_kept_runs_have_their_own_directories(tmp_path: Path) -> None:
    single = plan("subscription_amendment", "reference", [3], (), SHORT)
    directory = start(single, tmp_path)
    with ThreadPoolExecutor(1) as executor:
        (result,) = execute(directory, executor, 1, keep_runs=True)
    run_dir = directory / "runs" / "p000" / "3"
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    lines = (run_dir / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert summary["history"]["records"] == len(lines) == result["records"]


# -- statistics ----------------------------------------------------------------------------


def test_a_figures_interval_is_students_t_on_the_mean() -> None:
    stats = figure_stats([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.776445 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4) * s / sqrt(n)
    assert stats["mean"] == 3.0
    assert stats["ci_low"] == pytest.approx(3.0 - half, abs=1e-5)
    assert stats["ci_high"] == pytest.approx(3.0 + half, abs=1e-5)
    assert figure_stats([7.0])["ci_low"] is None  # one seed: no interval


def test_a_pass_rate_carries_wilsons_interval() -> None:
    assert pass_rate(10, 10)["ci_low"] == pytest.approx(0.722467, abs=1e-5)
    assert pass_rate(0, 10)["ci_high"] == pytest.approx(0.277533, abs=1e-5)
    half = pass_rate(5, 10)
    assert (half["ci_low"], half["ci_high"]) == pytest.approx((0.236593, 0.763407), abs=1e-5)


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "2", "--vary", "erp.outages.mtbf"], "write it as PATH=V1,V2"),
        (["--seeds", "2", "--vary", "erp.outages.mtbf=1d,-3d"],
         "--vary erp.outages.mtbf=-3d: systems.erp.outages.mtbf: a duration must not be negative"),
        (["--seeds", "2", "--vary", "erp.outages.mtfb=1d"], "did you mean 'mtbf'?"),
        (["--seeds", "2", "--executor", "ray://x"], "give `process`, `dask://local`"),
        (["--seeds", "2", "--design", "nowhere.module:thing"], "nowhere.module"),
        ([], "give a SCENARIO and --seeds N"),
    ],
)  # fmt: skip
def test_bad_sweeps_get_one_sentence_and_exit_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["sweep", "subscription_amendment", *args,
                                       "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "subscription_amendment").exists()  # nothing half-made


def test_resume_needs_a_sweep_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sweep", "--resume", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a sweep directory: sweep.json is missing" in result.output
    with pytest.raises(SweepError, match="at least one seed"):
        plan("subscription_amendment", "reference", [], ())


def test_a_failed_run_stops_the_sweep_keeping_what_finished(
    small_plan: SweepPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.sweep as sweep_module

    real = sweep_module._run_one

    def flaky(job: Any) -> dict[str, Any]:
        if (job.point, job.seed) == (1, 0):
            raise RuntimeError("worker lost its disk")
        return real(job)

    monkeypatch.setattr(sweep_module, "_run_one", flaky)
    directory = start(small_plan, tmp_path)
    with ThreadPoolExecutor(1) as executor, pytest.raises(SweepInterrupted) as stopped:
        execute(directory, executor, 1, batch_size=1)
    assert stopped.value.cause == "RuntimeError: worker lost its disk"
    assert [(r["point"], r["seed"]) for r in read_results(directory)] == [(0, 0)]


def test_two_varied_fields_make_every_combination_and_pooled_tables(tmp_path: Path) -> None:
    support_mtbf = parse_variation("support.outages.mtbf=2h,4d")
    crossed = plan("subscription_amendment", "reference", [0], [MTBF, support_mtbf], SHORT)
    assert [p.label for p in crossed.points] == [
        "erp.outages.mtbf=6h, support.outages.mtbf=2h",
        "erp.outages.mtbf=6h, support.outages.mtbf=4d",
        "erp.outages.mtbf=3d, support.outages.mtbf=2h",
        "erp.outages.mtbf=3d, support.outages.mtbf=4d",
    ]
    directory = start(crossed, tmp_path)
    with ThreadPoolExecutor(1) as executor:
        aggregates = write_aggregates(directory, crossed, execute(directory, executor, 1))
    pooled = aggregates["by_parameter"]["support.outages.mtbf"]
    assert [pooled[value]["runs"] for value in ("2h", "4d")] == [2, 2]
    down = "billing_to_support.support_down_s"
    assert pooled["2h"]["figures"][down]["mean"] > pooled["4d"]["figures"][down]["mean"]
    write_sweep_report(directory)
    markdown = parse_markdown((directory / "sweep.md").read_text(encoding="utf-8"))
    heading = "By support.outages.mtbf, pooled over the other fields"
    assert heading in markdown.headings
    by_support_mtbf = markdown.tables[markdown.headings.index(heading) - 1]
    assert by_support_mtbf[0][2:] == ["support.outages.mtbf=2h", "support.outages.mtbf=4d"]
