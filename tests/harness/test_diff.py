"""`syncline diff`: an identical rerun is no change (exit 0); an injected regression — the same
scenario and seed under a design that loses work — is flagged (exit 1); a directory that is not
a run gets one sentence (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.diff import diff_runs
from tests.broken_designs import NaiveConsumer


def run_dir(tmp_path: Path, name: str, design: str, seed: int = 7) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["run", "subscription_amendment", "--design", design,
                                       "--seed", str(seed), "--set", "duration=1d",
                                       "--out", str(out)])  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return next(out.rglob("summary.json")).parent


def test_an_identical_rerun_is_no_change_and_a_regression_is_flagged(tmp_path: Path) -> None:
    first, again = run_dir(tmp_path, "a", "reference"), run_dir(tmp_path, "b", "reference")
    same = CliRunner().invoke(main, ["diff", str(first), str(again)])
    assert same.exit_code == 0, same.output
    assert "no change" in same.output

    broken = run_dir(tmp_path, "c", "point-to-point")  # no outbox, no idempotency: loses work
    worse = CliRunner().invoke(main, ["diff", str(first), str(broken), "--json"])
    assert worse.exit_code == 1, worse.output
    told = json.loads(worse.output)["runs"][""]
    regressed = {v["checker"] for v in told["verdicts"] if v["regression"]}
    assert "nothing_lost" in regressed and told["comparable"] is True
    assert any(f["checker"] == "nothing_lost" and f["figure"] == "lost" for f in told["figures"])
    back = diff_runs(broken, first)  # the fix, seen the other way: improvements, no regression
    assert back.verdicts and not back.regressions


def test_other_seeds_are_listed_not_judged_and_a_non_run_is_refused(tmp_path: Path) -> None:
    one, other = run_dir(tmp_path, "a", "reference", 7), run_dir(tmp_path, "b", "reference", 8)
    assert diff_runs(one, other).comparable is False
    told = CliRunner().invoke(main, ["diff", str(one), str(other)])
    assert "figures are listed, not judged" in told.output
    refused = CliRunner().invoke(main, ["diff", str(one), str(tmp_path)])
    assert refused.exit_code == 2 and "holds no result: give a run directory" in refused.output


class ReferenceWithoutInbox(NaiveConsumer):
    """A change to the reference that drops its inbox, under the reference's own name."""

    name = "reference"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_comparisons_are_diffed_design_by_design(tmp_path: Path) -> None:
    common = ["subscription_amendment", "--seed", "3", "--set", "duration=1d"]
    for out, designs in (
        ("a", "reference,point-to-point"),
        ("b", "reference,point-to-point"),
        ("c", f"{__name__}:ReferenceWithoutInbox,point-to-point,batch-esb"),
    ):
        code, told = invoke(
            "compare", *common, "--designs", designs, "--out", str(tmp_path / out), "--no-reports"
        )
        assert code == 0, told
    a, b, c = (next((tmp_path / x).glob("*/compare/*")) for x in "abc")
    code, told = invoke("diff", str(a), str(b))
    assert code == 0 and "reference: no change" in told and "point-to-point: no change" in told
    code, told = invoke("diff", str(a), str(c), "--json")
    found = json.loads(told)
    assert code == 1 and found["kind"] == "comparison" and found["only_after"] == ["batch-esb"]
    assert found["runs"]["reference"]["regressions"] > 0
    assert found["runs"]["point-to-point"]["regressions"] == 0  # the same design, unchanged
    code, told = invoke("diff", str(a), str(next(c.glob("reference"))))
    assert code == 2 and "cannot diff a comparison" in told


def test_sweeps_are_judged_by_their_intervals(tmp_path: Path) -> None:
    def sweep(name: str, design: str) -> Path:
        code, told = invoke(
            "sweep", "subscription_amendment", "--seeds", "6", "--set", "duration=1d",
            "--design", design, "--out", str(tmp_path / name),
        )  # fmt: skip
        assert code in (0, 1), told
        return next((tmp_path / name).glob("*/sweep/*"))

    good, again, bad = (
        sweep("a", "reference"),
        sweep("b", "reference"),
        sweep("c", "point-to-point"),
    )
    code, told = invoke("diff", str(good), str(again))
    assert code == 0 and "no change beyond the intervals" in told
    code, told = invoke("diff", str(good), str(bad), "--json")
    found = json.loads(told)
    assert code == 1 and found["kind"] == "sweep"
    passed = next(c for c in found["intervals"] if c["measure"] == "passed")
    assert passed["regression"] and passed["after"][2] < passed["before"][1]
