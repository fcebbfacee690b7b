"""`syncline compare`: identical inputs for every design, and the trade-offs the seed document
names, emerging from behaviour on the seed scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.compare import Comparison, compare
from harness.history import EventRecord, FaultRecord, read_history
from harness.runner import run
from harness.scenario import load
from reports.comparison import write_comparison_report
from tests.conftest import scenario_with
from tests.markdown_parse import parse_markdown

DESIGNS = ["point-to-point", "choreography", "batch-esb", "reference"]


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    out = tmp_path_factory.mktemp("compare")
    return compare(load("subscription_amendment"), DESIGNS, seed=7, out=out, workers=2)


def figures(comparison: Comparison, design: str) -> dict[str, Any]:
    result: dict[str, Any] = comparison.data["designs"][design]["figures"]
    return result


def inputs(run_dir: Path) -> tuple[list[Any], list[Any]]:
    """What the world did regardless of the design: sales approvals and faults, in order."""
    approvals, faults = [], []
    for record in read_history(run_dir / "history.jsonl"):
        if (
            isinstance(record, EventRecord)
            and record.type == "emitted"
            and (record.event_type == "quote.approved")
        ):
            approvals.append((record.t, record.event_id, dict(record.keys)))
        elif isinstance(record, FaultRecord):
            faults.append((record.t, record.system, record.fault, record.phase))
    return approvals, faults


def test_every_design_gets_bit_identical_inputs(comparison: Comparison) -> None:
    seen = {name: inputs(result.run_dir) for name, result in comparison.results.items()}
    approvals, faults = seen["reference"]
    assert len(approvals) > 2000 and len(faults) > 10
    for name in DESIGNS:
        assert seen[name] == (approvals, faults), name
    schedules = {json.dumps(r.summary["faults"]) for r in comparison.results.values()}
    assert len(schedules) == 1


def test_the_reference_passes_everything(comparison: Comparison) -> None:
    assert comparison.results["reference"].passed
    assert comparison.data["designs"]["reference"]["status"] == "pass"


def test_point_to_point_duplicates_or_half_updates(comparison: Comparison) -> None:
    p2p = figures(comparison, "point-to-point")
    assert p2p["duplicate_effects"] > 0 or p2p["partial_contracts"] > 0
    assert p2p["duplicate_effects"] > 100  # no inbox, no keys, 15 % duplicate billing webhooks
    assert p2p["lost"] > 0  # refusals are logged and dropped


def test_batch_esb_windows_are_of_the_order_of_its_interval(comparison: Comparison) -> None:
    interval = 4 * 3600.0  # the seed scenario's designs.batch-esb.interval
    esb, reference = figures(comparison, "batch-esb"), figures(comparison, "reference")
    assert interval / 4 <= esb["window_p50_s"] <= 2 * interval
    assert esb["window_p50_s"] > 100 * reference["window_p50_s"]
    assert esb["invoiced_before_entitled_share"] > 0.5


def test_choreography_overwrites_stale_versions_unless_it_versions(
    comparison: Comparison, tmp_path: Path
) -> None:
    unversioned = figures(comparison, "choreography")
    assert unversioned["stale_overwrites"] > 0
    assert unversioned["duplicate_effects"] == 0  # its consumers are idempotent
    scenario = load("subscription_amendment", ["designs.choreography.versioned=true"])
    versioned = run(scenario, "choreography", 7, tmp_path)
    stale = next(v for v in versioned.verdicts if v.checker == "monotonic_versions")
    assert stale.status == "pass" and stale.figures["stale_overwrites"] == 0


def test_the_comparison_report_measures_the_decision_table(comparison: Comparison) -> None:
    written = write_comparison_report(comparison.directory)
    report = (comparison.directory / "comparison.md").read_text(encoding="utf-8")
    page = (comparison.directory / "comparison.html").read_text(encoding="utf-8")
    assert written[:2] == [
        comparison.directory / "comparison.html",
        comparison.directory / "comparison.md",
    ]
    charts = written[2:]
    assert [c.stem for c in charts][:2] == ["windows", "duplicate_effects"] and len(charts) == 10
    for chart in charts:
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({chart.relative_to(comparison.directory).as_posix()})" in report
    assert page.count("data:image/png;base64,") == len(charts)
    parsed = parse_markdown(report)
    verdicts = parsed.tables[0]
    assert verdicts[0] == ["checker", *DESIGNS] and verdicts[-1][0] == "overall"
    assert len(parsed.images) == len(charts)
    for decision in ("Direct SaaS-to-ERP APIs", "Middleware-led orchestration",
                     "Event-driven synchronization", "Legacy batch ESB"):  # fmt: skip
        assert decision in report and decision in page
    p2p = figures(comparison, "point-to-point")
    assert f"{p2p['duplicate_effects']:,} duplicate effects" in report
    for name in DESIGNS:
        assert (comparison.directory / name / "report.md").is_file()
        assert f'<a href="{name}/report.html">report</a>' in page


def test_a_shorter_esb_interval_narrows_its_window(tmp_path: Path) -> None:
    scenario = scenario_with(duration="1d", drain="1d")
    windows = {}
    for interval in ("1h", "4h"):
        tuned = scenario.model_copy(update={"designs": {"batch-esb": {"interval": interval}}})
        result = run(tuned, "batch-esb", 3, tmp_path / interval)
        window = next(v for v in result.verdicts if v.checker == "billing_to_support")
        windows[interval] = window.figures["p50_s"]
    assert windows["1h"] < windows["4h"] / 2
