"""Fault coverage: which hazards a run actually met, and which checkers they put to the test.

A pass means little if what could break the invariant never happened: a run without one
duplicate delivery says nothing about effect-once. `Hazards` folds the history (what the
vendors, the network and the harness recorded, never a design's word) into counts of each
hazard; `coverage` then tells, per checker, whether any hazard it judges occurred, so a verdict
can say "pass — not exercised: no duplicate was delivered, no answer was lost".
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
}
#: Which hazards put each checker to the test (any one of them suffices).
EXERCISED_BY: Mapping[str, tuple[str, ...]] = {
    "human_time": ("refused",),
    "effect_once": ("duplicate_delivered", "answer_lost", "crash_in_flight"),
    "billing_to_support": ("system_down", "reordered", "duplicate_delivered"),
    "invoiced_before_entitled": ("system_down", "reordered"),
    "cases_on_stale_entitlement": ("system_down", "reordered"),
    "nothing_lost": (
        "event_lost",
        "answer_lost",
        "system_down",
        "crash_in_flight",
        "crash_set_aside",
        "refused",
    ),
    "partial_updates": ("system_down", "answer_lost", "crash_in_flight", "refused"),
    "monotonic_versions": ("reordered", "duplicate_delivered"),
    "convergence": ("event_lost", "reordered", "system_down", "refused"),
    "lineage": ("answer_lost", "crash_in_flight", "refused"),
    "retry_hygiene": ("retry_after", "refused", "system_down", "answer_lost"),
    "end_to_end": ("system_down", "refused", "crash_in_flight"),
    "reconciliation": ("refused", "reordered", "answer_lost"),
    "holdings": ("refused", "reordered", "answer_lost", "duplicate_delivered"),
    "documents": ("answer_lost", "system_down", "crash_in_flight", "refused"),
    "entitled_before_billed": ("system_down", "reordered"),
}
#: Consistency windows `<source>_to_<target>` are put to the test by these.
WINDOW_HAZARDS = ("system_down", "reordered", "refused")
#: Faults during which a system takes no write.
DOWN = DOWNTIME
#: Workflow statuses of work set aside for people; the settled ones end work.
SET_ASIDE = frozenset({"parked", "dead_lettered"})
SETTLED = frozenset({
    "completed", "superseded", "skipped", "compensated", "failed", "crashed", "interrupted",
    "error_file",
})  # fmt: skip


class Hazards:
    """Counts of each hazard in a run, folded from its history."""

    wants: ClassVar[tuple[type, ...]] = (CallRecord, EventRecord, FaultRecord, WorkflowRecord)

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(HAZARDS, 0)
        self._emitted: dict[str, tuple[float, str]] = {}  # event -> emitted at, its contract
        self._delivered: dict[tuple[str, str], float] = {}  # (system, contract) -> latest emitted
        self._working: dict[str, str] = {}  # workflow -> its last status, until it settles

    def observe(self, position: int, record: Record) -> None:
        counts = self.counts
        if type(record) is CallRecord:
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
            if record.status in SETTLED:
                self._working.pop(record.workflow, None)
            else:
                self._working[record.workflow] = record.status

    def _event(self, record: EventRecord) -> None:
        if record.type == "emitted":
            contract = record.keys.get("contract")
            if contract is not None:
                self._emitted[record.event_id] = (record.t, str(contract))
        elif record.type in ("lost", "dropped"):
            self.counts["event_lost"] += 1
            self._emitted.pop(record.event_id, None)
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
