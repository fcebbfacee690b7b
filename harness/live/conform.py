"""`syncline conform`: a live conformance test of anyone's orchestrator.

The orchestrator under test receives the services' webhooks (start `syncline serve --webhooks
<its URL>`) and calls the simulators with the tokens in `tokens.json`. The harness then:
1. drives the scenario's workload into CPQ for `duration` (new deals and amendments, at the
   scenario's mix; customers open support cases) while the services enact the scenario's
   faults on their clock;
2. sends the orchestrator forged (wrong secret), unsigned and replayed (stale timestamp)
   webhooks, each naming an id no system issued (`FORGED-...`), and records the answers;
3. waits for the integration to settle, reads the orchestrator's business exceptions from
   `GET <url>/exceptions` if it serves them (the same shape as `syncline orchestrator`'s: a
   list of `{"workflow", "status", "reason", "keys"}`, keys naming the quote, contract and
   contract_version), so parked work counts as parked, not lost;
4. judges the services' history with every checker, plus `security`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness.checkers.security import FORGED_PREFIX, Security
from harness.live.client import http_client
from harness.live.judge import judge, read_exceptions
from harness.live.load import export_history, settle
from harness.live.orchestrator import read_services
from harness.live.sales import SalesFloor, world_headers
from harness.live.serve import HistoryLog, RealClock
from harness.runner import RunResult, new_directory
from simulators.webhooks import canonical_body, sign


@dataclass(frozen=True)
class ConformPlan:
    services_dir: Path
    orchestrator: str
    duration_s: float = 60.0
    quotes_per_s: float = 1.0
    settle_s: float = 120.0


PROBES = (("forged", "not-the-secret", 0), ("unsigned", None, 0), ("replayed", "", -3600))


def run_conform(plan: ConformPlan) -> RunResult:
    described = read_services(plan.services_dir)
    seed = int(described.get("seed", 0))
    run_dir = new_directory(plan.services_dir / "conform", seed)
    notes = HistoryLog(run_dir / "conformance.jsonl")
    clock = RealClock(described["time_scale"], described["started_unix"])
    try:
        asyncio.run(_drive(plan, described, notes, clock, seed))
        workload_s = clock.now()
        settled = asyncio.run(settle(plan.services_dir, plan.orchestrator, plan.settle_s))
        listed = asyncio.run(read_exceptions(plan.orchestrator, described["admin_token"]))
        _note_exceptions(listed, notes, clock)
        exported, lost = asyncio.run(export_history(plan.services_dir, run_dir))
    finally:
        notes.close()
    return judge(plan.services_dir, run_dir, [exported, run_dir / "conformance.jsonl"],
                 design="conform", extra_checkers=[Security()], held=listed,
                 unsettled=lost or settled.why_not, workload_s=workload_s)  # fmt: skip


async def _drive(
    plan: ConformPlan, described: dict[str, Any], notes: HistoryLog, clock: RealClock, seed: int
) -> None:
    floor = SalesFloor(described["scenario"], seed)
    cpq, support = described["systems"]["cpq"], described["systems"]["support"]
    async with (
        http_client(cpq["url"], cpq["token"], headers=world_headers("sales_reps")) as client,
        http_client(support["url"], support["token"],
                    headers=world_headers("customers")) as service_desk,
        http_client() as raw,
    ):  # fmt: skip
        probes_due = [plan.duration_s * share for share in (0.2, 0.6)]  # seconds in
        began = time.monotonic()
        while (elapsed := time.monotonic() - began) < plan.duration_s:
            await floor.sell(client, service_desk)
            if probes_due and elapsed >= probes_due[0]:
                probes_due.pop(0)
                await _probe(raw, plan.orchestrator, described, notes, clock)
            await asyncio.sleep(1 / plan.quotes_per_s)


async def _probe(
    client: httpx.AsyncClient, url: str, described: dict[str, Any], notes: HistoryLog,
    clock: RealClock,
) -> None:  # fmt: skip
    """Forged, unsigned and replayed webhooks, each naming an id nobody issued."""
    for kind, secret, age in PROBES:
        forged = f"{FORGED_PREFIX}{kind.upper()}-{clock.now():.0f}"
        body = _forged_approval(described, forged, clock.now())
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            key = secret or described["signing_secret"]  # "" : the real secret, but stale
            headers["Syncline-Signature"] = sign(key, int(time.time()) + age, body)
        try:
            answer = await client.post(f"{url.rstrip('/')}/webhooks/cpq",
                                       content=canonical_body(body), headers=headers)  # fmt: skip
            status = answer.status_code
        except httpx.HTTPError:
            status = 0
        details = {"status": status, "accepted": 200 <= status < 300, "id": forged}
        notes({"kind": "policy", "t": round(clock.now(), 6), "policy": "conformance",
               "subject": kind, "event": "probe", "details": details})  # fmt: skip


def _forged_approval(described: dict[str, Any], forged: str, now: float) -> dict[str, Any]:
    """A quote approval naming `forged`, in the shape CPQ's webhooks have: Syncline's own, or a
    Salesforce change event when CPQ is served on its vendor's wire (`serve --wire`)."""
    if described.get("vendor", {}).get("cpq", {}).get("wire") == "salesforce":
        header = {"entityName": "SBQQ__Quote__c", "recordIds": [forged], "changeType": "UPDATE",
                  "changedFields": ["SBQQ__Status__c"], "transactionKey": f"{forged}-tx",
                  "sequenceNumber": 0, "commitTimestamp": 0}  # fmt: skip
        payload = {"ChangeEventHeader": header, "Id": forged, "SBQQ__Status__c": "Approved",
                   "SBQQ__MasterContract__c": forged, "Contract_Version__c": 1}  # fmt: skip
        return {"channel": "/data/SBQQ__Quote__ChangeEvent",
                "data": {"schema": "syncline-quote-1", "payload": payload,
                         "event": {"replayId": 0, "EventUuid": f"EVT-{forged}"}}}  # fmt: skip
    return {
        "event_id": f"EVT-{forged}", "type": "quote.approved", "system": "cpq",
        "occurred_at": now, "payload": {"quote_id": forged, "contract_id": forged},
        "keys": {"quote": forged, "contract": forged}, "delivery": 1,
    }  # fmt: skip


def _note_exceptions(listed: list[dict[str, Any]], notes: HistoryLog, clock: RealClock) -> None:
    """The orchestrator's own account of what it parked, as workflow statuses with reasons."""
    for entry in listed:
        workflow = str(entry.get("workflow", ""))
        if not workflow:
            continue
        reason = str(entry.get("reason") or entry.get("code") or "reported by the orchestrator")
        keys = entry.get("keys") if isinstance(entry.get("keys"), dict) else {"quote": workflow}
        notes({"kind": "workflow", "t": round(clock.now(), 6), "workflow": workflow,
               "status": str(entry.get("status", "parked")), "keys": keys,
               "reason": reason})  # fmt: skip
