"""Every fault kind live: serve enacts the systems' own kinds (a master-data gap, a vendor
upgrade) on its clock, as the SimPy driver does, and records each start and stop."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from harness.live.serve import _enact_faults, plan_services, unenactable
from harness.scenario import load
from harness.scenario.fault_kinds import KINDS

CALM = [f"systems.{s}.{f}={v}" for s in ("cpq", "erp", "billing", "support")
        for f, v in (("maintenance", "[]"), ("outages", "null"))]  # fmt: skip
FAULTS = (
    "faults=[{kind: master_data_gap, target: erp, start: 1m, duration: 10m, sku: SW-FLEET-STD},"
    " {kind: vendor_upgrade, target: cpq, start: 1m}]"
)


def test_serve_opens_and_closes_gaps_and_upgrades_on_its_clock(tmp_path: Path) -> None:
    scenario = load("subscription_amendment", [*CALM, FAULTS])
    services = plan_services(scenario, 0, tmp_path, 600.0, "127.0.0.1", 1, None)
    erp, cpq = services.live["erp"].system, services.live["cpq"].system
    seen: dict[str, object] = {}

    async def watch() -> None:
        services.clock.started = time.time()  # scenario time 0 is now
        schedule = asyncio.create_task(_enact_faults(services, None))
        while services.clock.now() < 5 * 60:  # inside both windows
            await asyncio.sleep(0.005)
        seen["mapping"] = erp.master.items.get("SW-FLEET-STD")  # type: ignore[attr-defined]
        seen["schema"] = cpq.event_schema_version
        while services.clock.now() < 12 * 60:  # the gap is over; the upgrade is for good
            await asyncio.sleep(0.005)
        seen["restored"] = erp.master.items.get("SW-FLEET-STD")  # type: ignore[attr-defined]
        schedule.cancel()

    asyncio.run(watch())
    assert seen["mapping"] is None and seen["restored"] is not None
    assert seen["schema"] == 2
    assert services.history is not None
    services.history.close()
    records = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    faults = [(r["system"], r["fault"], r["phase"]) for r in records if r["kind"] == "fault"]
    assert faults == [
        ("cpq", "vendor_upgrade", "start"), ("erp", "master_data_gap", "start"),
        ("erp", "master_data_gap", "stop"),
    ]  # fmt: skip


def test_every_kind_has_a_live_enactment_or_a_clear_refusal() -> None:
    scenario = load("subscription_amendment")
    assert unenactable(scenario, 0, supervised=True) is None
    refused = unenactable(scenario, 0, supervised=False)
    assert refused is not None and "orchestrator_crash" not in refused  # said in words
    assert {kind.enacted_by for kind in KINDS} == {"condition", "systems", "orchestrator"}
