"""`syncline diff`: an identical rerun is no change (exit 0); an injected regression — the same
scenario and seed under a design that loses work — is flagged (exit 1); a directory that is not
a run gets one sentence (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.diff import diff_runs


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
    told = json.loads(worse.output)
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
    assert refused.exit_code == 2 and "summary.json is missing" in refused.output
