"""Descriptive figures of a run for `summary.json`: calls per system, events, outcomes.

A fold over the history like the checkers, but it judges nothing: it counts and measures.
"""

from __future__ import annotations

from typing import Any

from harness.checkers.base import percentile, rounded
from harness.history import CallRecord, EventRecord, Record, WorkflowRecord


class _SystemCalls:
    __slots__ = ("errors", "invoked", "latencies", "ok", "retries")

    def __init__(self) -> None:
        self.invoked = 0
        self.ok = 0
        self.retries = 0
        self.errors: dict[str, int] = {"business": 0, "transient": 0, "ambiguous": 0}
        self.latencies: list[float] = []


class RunMetrics:
    wants = (CallRecord, EventRecord, WorkflowRecord)

    def __init__(self) -> None:
        self.systems: dict[str, _SystemCalls] = {}
        self.events: dict[str, dict[str, int]] = {}
        self.workflow_status: dict[str, str] = {}

    def __call__(self, record: Record) -> None:
        kind = type(record)
        if kind is CallRecord:
            assert isinstance(record, CallRecord)
            calls = self.systems.get(record.system)
            if calls is None:
                calls = self.systems[record.system] = _SystemCalls()
            if record.type == "invoke":
                calls.invoked += 1
                calls.retries += record.attempt > 1
                return
            if record.latency is not None:
                calls.latencies.append(record.latency)
            if record.type == "ok":
                calls.ok += 1
            elif record.error_kind is not None:
                calls.errors[record.error_kind] += 1
        elif kind is EventRecord:
            assert isinstance(record, EventRecord)
            counts = self.events.setdefault(
                record.system, {"emitted": 0, "delivered": 0, "duplicates": 0}
            )
            if record.type == "emitted":
                counts["emitted"] += 1
            else:
                counts["delivered"] += 1
                counts["duplicates"] += record.delivery > 1
        elif kind is WorkflowRecord:
            assert isinstance(record, WorkflowRecord)
            self.workflow_status[record.workflow] = record.status

    def summary(self) -> dict[str, Any]:
        systems = {}
        for name in sorted(self.systems):
            calls = self.systems[name]
            ordered = sorted(calls.latencies)
            systems[name] = {
                "calls": calls.invoked,
                "ok": calls.ok,
                "retries": calls.retries,
                "errors": dict(calls.errors),
                "latency_s": {f"p{q}": rounded(percentile(ordered, q), 4) for q in (50, 95, 99)},
            }
        outcomes: dict[str, int] = {}
        for status in self.workflow_status.values():
            outcomes[status] = outcomes.get(status, 0) + 1
        return {
            "systems": systems,
            "events": {name: self.events[name] for name in sorted(self.events)},
            "workflows": dict(sorted(outcomes.items())),
        }
