"""The series behind the time charts agree with the run's own totals, and queue depths follow
parking, resolution, dead letters and replays."""

from __future__ import annotations

import json
from pathlib import Path

from harness.history import (
    EventRecord,
    PolicyRecord,
    Record,
    RunStarted,
    WorkflowRecord,
    to_json,
)
from reports.series import bucket_seconds, read_series
from tests.broken_designs import GivesUpSilently
from tests.conftest import RunDesign


def test_the_series_add_up_to_the_runs_totals(run_design: RunDesign) -> None:
    result = run_design()
    summary = json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))
    series = read_series(result.run_dir, summary)
    for system, figures in summary["systems"].items():
        assert series.calls[system].sum() == figures["calls"]
        assert series.retries[system].sum() == figures["retries"]
    assert series.retries.to_numpy().sum() > 0  # the ERP window makes the reference retry
    end_to_end = next(v for v in summary["checkers"] if v["checker"] == "end_to_end")
    assert len(series.latency) == end_to_end["figures"]["completed"]
    # the chart shows raw latency: downtime and waits on people are excused only in the verdict
    assert round(series.latency["latency_s"].max(), 3) == end_to_end["figures"]["raw_max_s"]
    assert end_to_end["figures"]["max_s"] <= end_to_end["figures"]["raw_max_s"]
    table = series.latency_percentiles(6)
    assert (table["p50"] <= table["p95"]).all() and (table["p95"] <= table["max"]).all()
    assert table.index.is_monotonic_increasing
    assert series.quotes["approved"].sum() >= series.quotes["completed"].sum() > 0


def test_parked_workflows_are_counted_in_the_exception_queue(run_design: RunDesign) -> None:
    result = run_design(GivesUpSilently)
    summary = json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))
    series = read_series(result.run_dir, summary)
    parked_at_end = summary["workflows"].get("parked", 0)
    assert parked_at_end > 0
    assert series.queues["exceptions"].iloc[-1] == parked_at_end
    assert series.queues["exceptions"].max() >= parked_at_end


def _write(run_dir: Path, records: list[Record]) -> dict[str, object]:
    run_dir.mkdir()
    lines = [to_json(r) for r in records]
    (run_dir / "history.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "simulated": {"start": "2026-03-02T00:00:00+00:00", "horizon_s": 10 * 3600.0},
        "systems": {"erp": {}},
    }


def test_queue_depths_follow_resolutions_dead_letters_and_replays(tmp_path: Path) -> None:
    keys = {"quote": "Q-1"}
    summary = _write(tmp_path / "run", [
        RunStarted(0.0, "s", "d", 1, "2026-03-02T00:00:00+00:00", 36000.0),
        WorkflowRecord(100.0, "Q-1", "started", keys),
        WorkflowRecord(200.0, "Q-1", "parked", keys, "missing tax code"),
        WorkflowRecord(300.0, "Q-2", "dead_lettered", {"quote": "Q-2"}, "gave up"),
        EventRecord(400.0, "dead_lettered", "E-9", "quote.approved", "broker/erp", keys, 3),
        WorkflowRecord(500.0, "Q-1", "resumed", keys),
        PolicyRecord(600.0, "operations", "E-9", "broker.replay:erp"),
        WorkflowRecord(700.0, "Q-2", "compensated", {"quote": "Q-2"}),
    ])  # fmt: skip
    series = read_series(tmp_path / "run", summary)
    depths = [
        (row.at.timestamp() % 86400, row.exceptions, row.dead_letters)
        for row in series.queues.itertuples()
    ]
    assert depths == [
        (0.0, 0, 0), (200.0, 1, 0), (300.0, 1, 1), (400.0, 1, 2), (500.0, 0, 2),
        (600.0, 0, 1), (700.0, 0, 0),
    ]  # fmt: skip


def test_long_runs_get_wider_buckets() -> None:
    assert bucket_seconds(8 * 86400) == 3600
    assert bucket_seconds(10 * 86400) == 3600
    assert bucket_seconds(30 * 86400) == 3 * 3600
