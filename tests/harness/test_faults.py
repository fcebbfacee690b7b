"""Every fault kind, enacted in a real run, leaves its mark in the history; swarms replay."""

from __future__ import annotations

import statistics
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import Effect
from harness.faults import build_schedule, draw_swarm, with_swarm
from harness.history import (
    CallRecord,
    EventRecord,
    FaultRecord,
    PolicyRecord,
    Record,
    WorkflowRecord,
    read_history,
)
from harness.runner import RunResult, run
from harness.scenario import Scenario, load
from simulators.base import DomainEvent
from tests.conftest import scenario_with

HOUR = 3600.0
WINDOW = (2 * HOUR, 4 * HOUR)  # every fault below is open from 2 h to 4 h


def quiet(**overrides: Any) -> Scenario:
    """Half a day of traffic, a day in all, with no random faults of the systems' own.

    The faults these tests inject hold work for hours on purpose: they judge correctness, so
    end-to-end latency and the extra windows are not held to the seed scenario's SLOs."""
    return scenario_with(
        duration="12h",
        drain="12h",
        **{
            "slo.end_to_end": {},
            "slo.windows": {},
            "systems.erp.outages": None,
            "systems.erp.ghost_write_probability": 0,
            "systems.support.outages": None,
            "systems.billing.ghost_write_probability": 0,
            "systems.billing.webhooks": {"duplicate_probability": 0, "reorder_probability": 0},
        },
        **overrides,
    )


def fault(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "start": "2h", "duration": "2h", **fields}


def run_faults(
    tmp_path: Path, *faults: dict[str, Any], design: Any = "reference"
) -> tuple[RunResult, list[Record]]:
    result = run(quiet(faults=list(faults)), design, 7, tmp_path / "runs")
    return result, list(read_history(result.run_dir / "history.jsonl"))


def calls(records: list[Record], system: str, kind: str | None = None) -> list[CallRecord]:
    return [
        r for r in records
        if isinstance(r, CallRecord) and r.system == system and r.type != "invoke"
        and (kind is None or r.type == kind)
    ]  # fmt: skip


def inside(t: float, slack: float = 120.0) -> bool:
    return WINDOW[0] <= t <= WINDOW[1] + slack


def test_fault_records_mark_every_start_and_stop(tmp_path: Path) -> None:
    _, records = run_faults(tmp_path, fault("outage", target="erp"))
    marks = [(r.t, r.system, r.fault, r.phase) for r in records if isinstance(r, FaultRecord)]
    assert marks == [(WINDOW[0], "erp", "outage", "start"), (WINDOW[1], "erp", "outage", "stop")]


def test_outage(tmp_path: Path) -> None:
    result, records = run_faults(tmp_path, fault("outage", target="erp"))
    refused = [r for r in calls(records, "erp", "fail") if r.cause == "outage"]
    assert refused and all(inside(r.t) for r in refused)
    assert {r.error_code for r in refused} == {"SERVICE_UNAVAILABLE"}
    assert result.passed  # the reference retries through it


def test_brownout_slows_and_fails_calls(tmp_path: Path) -> None:
    _, records = run_faults(
        tmp_path, fault("brownout", target="billing", latency_factor=10, error_rate="50%")
    )
    ok = calls(records, "billing", "ok")
    during = statistics.median(r.latency or 0 for r in ok if inside(r.t, 0))
    outside = statistics.median(r.latency or 0 for r in ok if not inside(r.t, 600))
    assert during > 5 * outside
    failed = [r for r in calls(records, "billing", "fail") if r.cause == "brownout"]
    assert failed and all(inside(r.t, 60) for r in failed)


def test_read_only_refuses_writes_and_answers_reads(tmp_path: Path) -> None:
    _, records = run_faults(tmp_path, fault("read_only", target="erp"))
    during = [r for r in calls(records, "erp") if inside(r.t, 0) and r.t > WINDOW[0] + 1]
    refused = {r.operation for r in during if r.cause == "read_only"}
    answered = {r.operation for r in during if r.type == "ok"}
    assert refused and "validate_order" not in refused
    assert "validate_order" in answered and not answered & refused


def test_partition_loses_requests_and_webhooks(tmp_path: Path) -> None:
    result, records = run_faults(
        tmp_path,
        fault("partition", between=["orchestrator", "billing"]),
        {"kind": "partition", "between": ["orchestrator", "cpq"], "start": "6h", "duration": "1h"},
    )
    lost = [r for r in calls(records, "billing", "info") if r.cause == "partition"]
    assert lost and all(inside(r.t, 60) for r in lost)
    failed = [r for r in records if isinstance(r, EventRecord) and r.type == "failed"]
    assert failed and {r.system for r in failed} == {"cpq"}
    assert all(6 * HOUR <= r.t <= 7 * HOUR for r in failed)
    assert result.passed  # calls retried; the CDC stream delivers what it held


def test_ghost_write_window(tmp_path: Path) -> None:
    result, records = run_faults(
        tmp_path, fault("ghost_writes", target="billing", probability="50%")
    )
    ghosts = [r for r in calls(records, "billing", "info") if r.cause == "ghost"]
    assert len(ghosts) > 10 and all(inside(r.t) for r in ghosts)
    assert result.summary["systems"]["billing"]["ghost_writes"] == len(ghosts)
    verdicts = {v.checker: v.status for v in result.verdicts}
    assert verdicts["effect_once"] == "pass"  # idempotency keys make the retries safe


def test_duplicate_storm(tmp_path: Path) -> None:
    _, records = run_faults(
        tmp_path, fault("duplicate_storm", target="billing", probability="100%")
    )
    emitted = {
        r.event_id: r.t for r in records if isinstance(r, EventRecord) and r.type == "emitted"
    }
    twice = [
        r
        for r in records
        if isinstance(r, EventRecord) and r.type == "delivered" and r.delivery == 2
    ]
    assert twice and all(inside(emitted[r.event_id], 60) for r in twice)
    assert all(r.t - emitted[r.event_id] >= 1800 for r in twice)  # the next retry, 30 min on


def test_duplicates_also_come_from_streams_without_a_retry_schedule(tmp_path: Path) -> None:
    """Salesforce-like CDC has no retry schedule; a duplicate is a re-publish a delay later."""
    _, records = run_faults(tmp_path, fault("duplicate_storm", target="cpq", probability="100%"))
    twice = [r for r in records if isinstance(r, EventRecord) and r.type == "delivered"
             and r.system == "cpq" and r.delivery == 2]  # fmt: skip
    assert twice


def test_webhook_delay_spike(tmp_path: Path) -> None:
    _, records = run_faults(tmp_path, fault("webhook_delay", target="billing", factor=50))
    emitted = {
        r.event_id: r.t for r in records if isinstance(r, EventRecord) and r.type == "emitted"
    }
    delivered = [r for r in records if isinstance(r, EventRecord) and r.type == "delivered"]
    delays = [
        (emitted[r.event_id], r.t - emitted[r.event_id]) for r in delivered if r.system == "billing"
    ]
    during = statistics.median(d for t, d in delays if inside(t, 0))
    outside = statistics.median(d for t, d in delays if not inside(t, 3600))
    assert during > 20 * outside


def test_master_data_gap_refuses_orders_only_while_open(tmp_path: Path) -> None:
    _, records = run_faults(tmp_path, fault("master_data_gap", tax_code="DE"))
    refusals = [r for r in calls(records, "erp", "fail") if r.error_code == "TAX_CODE_INACTIVE"]
    assert refusals and all(inside(r.t, 30) for r in refusals)
    parked = [r for r in records if isinstance(r, WorkflowRecord) and r.status == "parked"
              and "TAX_CODE_INACTIVE" in (r.reason or "")]  # fmt: skip
    assert len(parked) == len({r.keys["quote"] for r in parked})


class RawPayloadReader(ReferenceDesign):
    """The reference, but reading billing events' fields where schema version 1 has them."""

    name = "raw-payload-reader"

    def __init__(self) -> None:
        super().__init__()
        self.restarts: list[float] = []

    @property
    def subscriptions(self) -> Mapping[str, Any]:
        return {**super().subscriptions, "orchestrator.restarted": self.on_restart}

    def on_billing_changed(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, None]:
        _ = event.payload["contract_id"]
        yield from super().on_billing_changed(ctx, event)

    def on_restart(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, None]:
        self.restarts.append((yield ctx.now()))


def test_vendor_upgrade_breaks_designs_that_read_the_old_schema(tmp_path: Path) -> None:
    upgrade = {"kind": "vendor_upgrade", "target": "billing", "start": "2h"}
    _, records = run_faults(tmp_path, upgrade, design=RawPayloadReader)
    crashed = [r for r in records if isinstance(r, WorkflowRecord) and r.status == "crashed"]
    assert crashed and all(r.t >= WINDOW[0] for r in crashed)
    assert all("KeyError: 'contract_id'" in (r.reason or "") for r in crashed)
    result, _ = run_faults(tmp_path, upgrade)
    assert result.passed  # the reference reads events through harness.designs.canonical


def test_orchestrator_crash_interrupts_work_and_holds_webhooks(tmp_path: Path) -> None:
    crash = fault("orchestrator_crash", duration="30m")
    _, records = run_faults(tmp_path, crash)
    failed = [r for r in records if isinstance(r, EventRecord) and r.type == "failed"]
    assert failed and all(WINDOW[0] <= r.t <= WINDOW[0] + 1800 for r in failed)
    cpq_held = [r for r in failed if r.system == "cpq"]  # a CDC stream: delivered on reconnect
    delivered_later = {r.event_id for r in records if isinstance(r, EventRecord)
                       and r.type == "delivered" and r.t >= WINDOW[0] + 1800}  # fmt: skip
    assert cpq_held and {r.event_id for r in cpq_held} <= delivered_later
    design = RawPayloadReader()
    run(quiet(faults=[crash]), lambda: design, 7, tmp_path / "restart")
    assert design.restarts == [WINDOW[0] + 1800]


def test_the_schedule_joins_profile_windows_and_scenario_faults() -> None:
    scenario = load("subscription_amendment")
    schedule = build_schedule(scenario, 7)
    kinds = {(w.party, w.kind) for w in schedule.windows}
    assert ("erp", "maintenance") in kinds and ("erp", "outage") in kinds
    assert [w.start for w in schedule.windows] == sorted(w.start for w in schedule.windows)
    assert build_schedule(scenario, 7) == schedule
    assert build_schedule(scenario, 8) != schedule


def test_swarms_are_drawn_from_the_seed_and_replay_exactly(tmp_path: Path) -> None:
    scenario = quiet()
    assert draw_swarm(scenario, 3) == draw_swarm(scenario, 3)
    assert draw_swarm(scenario, 3) != draw_swarm(scenario, 4)
    kinds = {f["kind"] for seed in range(20) for f in draw_swarm(scenario, seed)}
    assert len(kinds) == 10  # over a few seeds, every kind of fault is drawn
    assert with_swarm(scenario, 3).workload == scenario.workload  # quantities survive the copy
    first = run(scenario, "reference", 3, tmp_path / "a", swarm=True)
    replayed = run(load(str(first.run_dir / "scenario.yaml")), "reference", 3, tmp_path / "b")
    for name in ("summary.json", "history.jsonl"):
        assert (first.run_dir / name).read_bytes() == (replayed.run_dir / name).read_bytes()
    assert len(first.summary["faults"]) > len(
        run(scenario, "reference", 3, tmp_path / "c").summary["faults"]
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_a_preset_override_scenario_replays_from_its_run_directory(
    tmp_path: Path, seed: int
) -> None:
    scenario = quiet(**{"systems.billing.latency": {"fixed": "1s"}})
    first = run(scenario, "reference", seed, tmp_path / "a")
    assert first.summary["systems"]["billing"]["latency_s"]["p50"] == 1.0
    replayed = run(load(str(first.run_dir / "scenario.yaml")), "reference", seed, tmp_path / "b")
    assert (first.run_dir / "summary.json").read_bytes() == (
        replayed.run_dir / "summary.json"
    ).read_bytes()


def test_the_reference_recovers_from_a_crash_without_loss_or_duplicates(tmp_path: Path) -> None:
    """Crashes while workflows are stuck mid-write (ERP is down): the journal resumes them."""
    crashes = [fault("orchestrator_crash", start=f"{hour}h", duration="20m") for hour in (3, 7)]
    outages = [fault("outage", target="erp", start=f"{hour}h") for hour in (2, 6)]
    result, records = run_faults(tmp_path, *outages, *crashes)
    interrupted = [
        r for r in records if isinstance(r, WorkflowRecord) and r.status == "interrupted"
    ]
    resumed = [r for r in records if isinstance(r, PolicyRecord) and r.event == "resumed"]
    assert interrupted and resumed
    verdicts = {v.checker: v.status for v in result.verdicts}
    assert verdicts["effect_once"] == "pass" and verdicts["nothing_lost"] == "pass"
