"""`syncline conform`'s probes and the security checker: forged, unsigned and replayed webhooks
must be refused and never acted on; an orchestrator that trusts them is caught."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from harness.checkers.security import Security
from harness.history import CallRecord, PolicyRecord, Record, StateRecord
from harness.live.conform import _probe
from harness.live.orchestrator import Orchestrator
from harness.live.serve import HistoryLog
from tests.live.test_orchestrator import World


def verdict(*records: Record) -> tuple[str, dict[str, object]]:
    checker = Security()
    for position, record in enumerate(records):
        checker.observe(position, record)
    found = checker.verdict()
    return found.status, dict(found.figures)


def probe(kind: str, status: int) -> PolicyRecord:
    details = {"status": status, "accepted": 200 <= status < 300, "id": f"FORGED-{kind}"}
    return PolicyRecord(1.0, "conformance", kind, "probe", details)


def test_the_security_checker() -> None:
    refused = [probe("forged", 401), probe("unsigned", 401), probe("replayed", 401)]
    assert verdict()[0] == "unknown"
    assert verdict(*refused) == ("pass", {"probes": 3, "accepted": 0, "acted_on": 0})
    assert verdict(*refused[:2], probe("replayed", 202))[0] == "fail"
    acted = StateRecord(2.0, "erp", "sales_order", "SO-9", "created", 1, {"quote": "FORGED-X"})
    assert verdict(*refused, acted) == ("fail", {"probes": 3, "accepted": 0, "acted_on": 1})
    call = CallRecord(2.0, "invoke", 1, "erp", "validate_order", keys={"quote": "Q-1"})
    assert verdict(*refused, call)[0] == "pass"


class Trusting(Orchestrator):
    """Checks no signature at all: what a hurried team ships."""

    def receive(self, system: str, raw: bytes, signature: str | None) -> tuple[int, str]:
        body = json.loads(raw)
        position = self.driver.journal.receive(system, body)
        self._handle(position, body)
        return 202, "accepted"


def run_probes(tmp_path: Path, trusting: bool) -> list[dict[str, object]]:
    world = World(tmp_path)
    notes = HistoryLog(tmp_path / "conformance.jsonl")

    async def steps(world: World) -> None:
        if trusting:
            world.orchestrator.__class__ = Trusting
        described = {"signing_secret": world.services.signing_secret}
        await _probe(world.inbound, "", described, notes, world.clock)  # type: ignore[arg-type]

    asyncio.run(world.run(steps))
    notes.close()
    records = [json.loads(line) for line in notes.lines()]
    return [r["details"] for r in records]


def test_the_reference_refuses_every_probe(tmp_path: Path) -> None:
    answers = run_probes(tmp_path, trusting=False)
    assert [a["status"] for a in answers] == [401, 401, 401]


def test_a_trusting_orchestrator_accepts_them_and_is_caught(tmp_path: Path) -> None:
    answers = run_probes(tmp_path, trusting=True)
    assert [a["accepted"] for a in answers] == [True, True, True]
    status, figures = verdict(*(probe(str(a["id"]), int(str(a["status"]))) for a in answers))
    assert status == "fail" and figures["accepted"] == 3
