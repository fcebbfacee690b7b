"""What the studio reads of a history: the first pass against the file and summary.json, the
windows against the records themselves, the running verdicts against `syncline analyze`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.history import CallRecord, read_history
from harness.runner import run
from harness.scenario import load
from harness.studio.index import STRIDE, record_time
from harness.studio.sources import NotARun, StoredRun


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> StoredRun:
    """Point-to-point through a duplicate storm and the seed scenario's ERP outage: effect_once
    and others fail, faults open and close."""
    out = tmp_path_factory.mktemp("run")
    scenario = load("duplicate_webhook_storm", ["duration=1d"])
    result = run(scenario, "point-to-point", 3, run_dir=out / "run")
    found = StoredRun(result.run_dir)
    found.judge()
    return found


def test_the_first_pass_counts_every_record_and_finds_every_fault_window(
    stored: StoredRun,
) -> None:
    overview = stored.overview()
    assert overview["records"] == stored.summary["history"]["records"]
    windows = [(f["party"], f["kind"], round(f["start"], 3), round(f["end"], 3))
               for f in overview["faults"]]  # fmt: skip
    expected = [(f["party"], f["kind"], f["start_s"], f["end_s"])
                for f in stored.summary["faults"]]  # fmt: skip
    assert sorted(windows) == sorted(expected)
    assert {"cpq", "erp", "billing", "support"} <= set(overview["systems"])
    calls = sum(sum(series) for series in overview["counts"]["calls"].values())
    records = list(read_history(stored.history))
    assert calls == sum(1 for r in records if isinstance(r, CallRecord) and r.type == "invoke")
    assert len(stored.scan.seek.times) == -(-len(records) // STRIDE)


def test_a_window_holds_exactly_the_records_of_its_time_or_an_even_sample(
    stored: StoredRun,
) -> None:
    lines = stored.history.read_bytes().splitlines()
    t0, t1 = 20_000.0, 26_000.0
    inside = [p for p, line in enumerate(lines) if t0 <= record_time(line) <= t1]
    window = stored.window(t0, t1, limit=2000)
    assert window.count == len(inside) and window.complete
    assert [r["position"] for r in window.records] == inside[: len(window.records)]
    sampled = stored.window(t0, t1, limit=10)
    assert sampled.count == len(inside) and 5 <= len(sampled.records) <= 10
    assert all(json.loads(lines[r["position"]])["t"] == r["t"] for r in sampled.records)
    [first] = stored.window(t0, t1, limit=1, head=True).records
    assert first["position"] == inside[0]


def test_the_running_verdicts_end_on_the_run_s_own_and_turn_where_evidence_says(
    stored: StoredRun,
) -> None:
    marks = stored.marks()
    assert marks["ready"]
    last = marks["marks"][-1]["verdicts"]
    expected = [(v["checker"], v["status"], v["summary"]) for v in stored.summary["checkers"]]
    assert [(v["checker"], v["status"], v["summary"]) for v in last] == expected
    failing = {v["checker"] for v in stored.summary["checkers"] if v["status"] == "fail"}
    assert "effect_once" in failing
    turned = {b["checker"]: b for b in marks["breaches"]}
    assert failing <= set(turned), "every checker failing at the end turned to fail somewhere"
    effect = next(v for v in stored.summary["checkers"] if v["checker"] == "effect_once")
    second_writes = [max(item["positions"]) for item in effect["evidence"]]
    assert turned["effect_once"]["position"] == min(second_writes), (
        "effect_once turns at the second write of its first duplicate"
    )


def test_a_directory_that_is_not_a_run_is_refused_in_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(NotARun, match=r"is not a run directory: history\.jsonl is missing"):
        StoredRun(tmp_path)
