"""Fault coverage: which hazards a run actually met, and which checkers they put to the test.

A pass means little if what could break the invariant never happened: a run without one
duplicate delivery says nothing about effect-once. `Hazards` folds the history (what the
vendors, the network and the harness recorded, never a design's word) into counts of each
hazard; `coverage` then tells, per checker, whether any hazard it judges occurred, so a verdict
can say "pass — not exercised: no duplicate was delivered, no answer was lost".

What the business did counts as well as what broke: a renewal, a cancellation or a downgrade
(an amendment whose total is below the version approved before it) approved in CPQ; a
compensation ERP recorded (a sales order cancelled, a contract reverted). Dead letters are the
one hazard a design reports itself (a workflow `dead_lettered`), beside the broker's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from harness.checkers.base import role
from harness.history import (
    WORLD_TRACE,
    CallRecord,
    EventRecord,
    FaultRecord,
    Record,
    StateRecord,
    WorkflowRecord,
)
from harness.scenario.fault_kinds import DOWNTIME

#: Each hazard, and how its absence reads.
HAZARDS: Mapping[str, str] = {
    "duplicate_delivered": "no event was delivered twice",
    "answer_lost": "no answer was lost (ghost write or timeout)",
    "reordered": "no event overtook an earlier one",
    "event_lost": "no event was lost on its way",
    "retry_after": "no vendor asked to retry later (429 + Retry-After)",
    "refused": "no vendor refused a request for a business reason",
    "system_down": "no system was down, read-only or cut off",
    "crash_in_flight": "the orchestrator never crashed with work in flight",
    "crash_set_aside": "the orchestrator never crashed with work parked or dead-lettered",
    "dead_letter": "no work was dead-lettered (retries spent)",
    "compensation": "no compensation undid an ERP order or contract",
    "renewal": "no renewal was approved",
    "cancellation": "no cancellation was approved",
    "downgrade": "no amendment lowered a contract's total",
    "queued_past_timeout": "no write without an idempotency key was applied after its client "
    "timed out",
}
#: Which hazards put each checker to the test (any one of them suffices).
EXERCISED_BY: Mapping[str, tuple[str, ...]] = {
    "human_time": ("refused",),
    "effect_once": (
        "duplicate_delivered", "answer_lost", "crash_in_flight", "queued_past_timeout",
    ),
    "billing_to_support": ("system_down", "reordered", "duplicate_delivered"),
    "invoiced_before_entitled": ("system_down", "reordered"),
    "cases_on_stale_entitlement": (
        "system_down", "reordered", "downgrade", "cancellation", "renewal",
    ),
    "nothing_lost": (
        "event_lost", "answer_lost", "system_down", "crash_in_flight", "crash_set_aside",
        "refused", "dead_letter", "compensation",
    ),
    "partial_updates": (
        "system_down", "answer_lost", "crash_in_flight", "refused", "dead_letter",
        "compensation",
    ),
    "monotonic_versions": ("reordered", "duplicate_delivered", "compensation"),
    "convergence": (
        "event_lost", "reordered", "system_down", "refused", "compensation", "downgrade",
        "cancellation", "renewal",
    ),
    "lineage": ("answer_lost", "crash_in_flight", "refused"),
    "retry_hygiene": ("retry_after", "refused", "system_down", "answer_lost"),
    "end_to_end": ("system_down", "refused", "crash_in_flight", "dead_letter"),
    "reconciliation": (
        "refused", "reordered", "answer_lost", "compensation", "downgrade", "cancellation",
        "renewal",
    ),
    "holdings": (
        "refused", "reordered", "answer_lost", "duplicate_delivered", "compensation",
        "downgrade", "cancellation", "renewal",
    ),
    "documents": (
        "answer_lost", "system_down", "crash_in_flight", "refused", "dead_letter", "renewal",
    ),
    "entitled_before_billed": ("system_down", "reordered"),
}  # fmt: skip
#: Consistency windows `<source>_to_<target>` are put to the test by these.
WINDOW_HAZARDS = ("system_down", "reordered", "refused")
#: Faults during which a system takes no write.
DOWN = DOWNTIME
#: Workflow statuses of work set aside for people; the settled ones end work.
SET_ASIDE = frozenset({"parked", "dead_lettered"})
#: State records of these say what the business did, or what a compensation undid.
_BUSINESS_ENTITIES = frozenset({"quote", "sales_order", "contract"})
#: Quote types whose approval is a hazard of its own (a downgrade is found from the totals).
_COUNTED_QUOTES = frozenset({"renewal", "cancellation"})
SETTLED = frozenset({
    "completed", "superseded", "skipped", "compensated", "failed", "crashed", "interrupted",
    "error_file",
})  # fmt: skip


class Hazards:
    """Counts of each hazard in a run, folded from its history."""

    wants: ClassVar[tuple[type, ...]] = (
        CallRecord, EventRecord, FaultRecord, WorkflowRecord, StateRecord,
    )  # fmt: skip

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(HAZARDS, 0)
        self._emitted: dict[str, tuple[float, str]] = {}  # event -> emitted at, its contract
        self._delivered: dict[tuple[str, str], float] = {}  # (system, contract) -> latest emitted
        self._working: dict[str, str] = {}  # workflow -> its last status, until it settles
        self._approved: dict[str, tuple[int, int]] = {}  # contract -> latest version, its total

    def observe(self, position: int, record: Record) -> None:
        counts = self.counts
        if type(record) is StateRecord:
            if record.past_timeout is not None:
                counts["queued_past_timeout"] += 1
            entity = record.entity
            if entity in _BUSINESS_ENTITIES:
                self._state(record)
        elif type(record) is CallRecord:
            if record.trace is not None and record.trace.startswith(WORLD_TRACE):
                return  # the world's own traffic: not the integration's hazard
            if record.type == "info":
                counts["answer_lost"] += 1
            elif record.type == "fail":
                if record.retry_after is not None:
                    counts["retry_after"] += 1
                if record.error_kind == "business" and not record.operation.startswith(
                    ("get_", "find_", "list_", "check_")
                ):
                    counts["refused"] += 1
        elif type(record) is EventRecord:
            self._event(record)
        elif type(record) is FaultRecord:
            if record.phase != "start":
                return
            if record.fault in DOWN:
                counts["system_down"] += 1
            elif record.fault == "orchestrator_crash":
                statuses = set(self._working.values())
                counts["crash_in_flight"] += bool(statuses - SET_ASIDE)
                counts["crash_set_aside"] += bool(statuses & SET_ASIDE)
        elif type(record) is WorkflowRecord:
            if record.status == "dead_lettered":
                counts["dead_letter"] += 1
            if record.status in SETTLED:
                self._working.pop(record.workflow, None)
            else:
                self._working[record.workflow] = record.status

    def _state(self, record: StateRecord) -> None:
        """CPQ's approvals (what the business did) and ERP's compensations."""
        system = role(record.system)
        if system == "erp":
            if record.change == "reverted" or (
                record.entity == "sales_order"
                and record.change == "updated"
                and (record.values or {}).get("status", "cancelled") == "cancelled"
            ):  # ERP updates an order only to cancel it; its values may say so
                self.counts["compensation"] += 1
            return
        values = record.values
        if system != "cpq" or record.entity != "quote" or not values or "total" not in values:
            return  # only an approval writes a quote's money
        quote_type = values.get("quote_type")
        if quote_type in _COUNTED_QUOTES:
            self.counts[quote_type] += 1
        contract, version = record.keys.get("contract"), record.keys.get("contract_version")
        if contract is None or not isinstance(version, int):
            return
        total = int(values["total"])
        before = self._approved.get(str(contract))
        if before is not None and before[0] >= version:
            return  # an older version approved late: not the contract's latest
        self._approved[str(contract)] = (version, total)
        if quote_type == "amendment" and before is not None and total < before[1]:
            self.counts["downgrade"] += 1

    def _event(self, record: EventRecord) -> None:
        if record.type == "emitted":
            contract = record.keys.get("contract")
            if contract is not None:
                self._emitted[record.event_id] = (record.t, str(contract))
        elif record.type in ("lost", "dropped"):
            self.counts["event_lost"] += 1
            self._emitted.pop(record.event_id, None)
        elif record.type == "dead_lettered":  # the broker gave up on a message
            self.counts["dead_letter"] += 1
        elif record.type == "delivered":
            if record.delivery > 1:
                self.counts["duplicate_delivered"] += 1
                return
            emitted = self._emitted.pop(record.event_id, None)
            if emitted is None:
                return
            at, contract = emitted
            place = (role(record.system), contract)
            if at < self._delivered.get(place, at):
                self.counts["reordered"] += 1
            else:
                self._delivered[place] = at

    def coverage(self, checker: str) -> tuple[bool, str] | None:
        """(exercised, what occurred or what did not) for a checker, or None if no hazard
        list applies to it."""
        needed = EXERCISED_BY.get(checker)
        if needed is None and "_to_" in checker:
            needed = WINDOW_HAZARDS
        if needed is None:
            return None
        seen = [f"{name.replace('_', ' ')} ×{self.counts[name]:,}" for name in needed
                if self.counts[name]]  # fmt: skip
        if seen:
            return True, ", ".join(seen)
        return False, ", ".join(HAZARDS[name] for name in needed)
