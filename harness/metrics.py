"""Descriptive figures of a run for `summary.json`: calls per system, webhooks, outcomes.

A fold over the history like the checkers, but it judges nothing: it counts and measures.
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import numpy as np
import numpy.typing as npt

from harness.checkers.base import rounded
from harness.digests import Digests
from harness.history import CallRecord, EventRecord, Record, WorkflowRecord

#: Causes of an indefinite answer where the request was applied all the same (ghost writes);
#: every other cause of failure is a rejection (rate_limit, outage, business, lost, ...).
GHOST_CAUSES = frozenset({"ghost", "timeout", "crash"})


class _SystemCalls:
    __slots__ = (
        "causes",
        "errors",
        "ghost_writes",
        "invoked",
        "latencies",
        "not_found",
        "ok",
        "queue_waits",
        "retries",
    )

    def __init__(self) -> None:
        self.invoked = 0
        self.ok = 0
        self.retries = 0
        self.ghost_writes = 0
        self.errors: dict[str, int] = {"business": 0, "transient": 0, "ambiguous": 0}
        self.not_found = 0  # look-ups that found nothing: answers, not refusals
        self.causes: dict[str, int] = {}
        self.latencies = array("d")  # 8 bytes a call: a long run's calls fit
        self.queue_waits = array("d")


#: Operations that only read (`get_subscription`, `find_sales_orders`, `list_changes`): a
#: business "not found" from one is an answer, counted apart from refusals of writes.
LOOKUPS = ("get_", "find_", "list_")


class RunMetrics:
    wants = (CallRecord, EventRecord, WorkflowRecord)

    def __init__(self) -> None:
        self.systems: dict[str, _SystemCalls] = {}
        self.webhooks: dict[str, dict[str, int]] = {}
        self.published: dict[str, dict[str, int]] = {}  # topic -> messages, sent again
        self.workflow_status = Digests()  # workflow -> its latest status, as a code
        self.status_names: list[str] = []  # code -> status
        self._status_codes: dict[str, int] = {}

    def __call__(self, record: Record) -> None:
        kind = type(record)
        if kind is CallRecord:
            assert isinstance(record, CallRecord)
            self._call(record)
        elif kind is EventRecord:
            assert isinstance(record, EventRecord)
            if record.type == "published":
                topic = self.published.setdefault(record.event_type, {"messages": 0, "resent": 0})
                topic["messages" if record.delivery == 1 else "resent"] += 1
                return
            counts = self.webhooks.setdefault(
                record.system,
                {"emitted": 0, "delivered": 0, "duplicates": 0, "failed_attempts": 0,
                 "dropped": 0, "lost": 0},
            )  # fmt: skip
            if record.type == "delivered":
                counts["delivered"] += 1
                counts["duplicates"] += record.delivery > 1
            elif record.type == "failed":
                counts["failed_attempts"] += 1
            else:
                counts[record.type] = counts.get(record.type, 0) + 1
        elif kind is WorkflowRecord:
            assert isinstance(record, WorkflowRecord)
            code = self._status_codes.get(record.status)
            if code is None:
                code = self._status_codes[record.status] = len(self.status_names)
                self.status_names.append(record.status)
            self.workflow_status.set(record.workflow, code)

    def _call(self, record: CallRecord) -> None:
        calls = self.systems.get(record.system)
        if calls is None:
            calls = self.systems[record.system] = _SystemCalls()
        if record.type == "invoke":
            calls.invoked += 1
            calls.retries += record.attempt > 1
            return
        if record.type == "ok":
            calls.ok += 1
            calls.latencies.append(record.latency or 0.0)
        elif record.error_kind == "business" and record.operation.startswith(LOOKUPS):
            calls.not_found += 1  # `get_subscription` before a create: an answer, not a refusal
            calls.latencies.append(record.latency or 0.0)
        elif record.error_kind is not None:
            calls.errors[record.error_kind] += 1
            cause = record.cause or record.error_kind
            if cause in GHOST_CAUSES:
                calls.ghost_writes += 1
            else:
                calls.causes[cause] = calls.causes.get(cause, 0) + 1
            if record.error_kind == "business":
                calls.latencies.append(record.latency or 0.0)
        calls.queue_waits.append(record.queue_wait or 0.0)

    def summary(self) -> dict[str, Any]:
        systems = {}
        for name in sorted(self.systems):
            calls = self.systems[name]
            served = np.sort(np.frombuffer(calls.latencies, dtype=np.float64))
            waits = np.sort(np.frombuffer(calls.queue_waits, dtype=np.float64))
            mean_wait = math.fsum(waits) / len(waits) if len(waits) else float("nan")
            systems[name] = {
                "calls": calls.invoked,
                "ok": calls.ok,
                "retries": calls.retries,
                "errors": dict(calls.errors),
                "rejections": dict(sorted(calls.causes.items())),
                "lookups_not_found": calls.not_found,
                "ghost_writes": calls.ghost_writes,
                "latency_s": {f"p{q}": rounded(_percentile(served, q), 4) for q in (50, 95, 99)},
                "queue_wait_s": {
                    "mean": rounded(mean_wait, 4),
                    "p95": rounded(_percentile(waits, 95), 4),
                },
            }
        outcomes: dict[str, int] = {}
        for code in self.workflow_status.codes():
            status = self.status_names[code]
            outcomes[status] = outcomes.get(status, 0) + 1
        return {
            "systems": systems,
            "webhooks": {name: self.webhooks[name] for name in sorted(self.webhooks)},
            "published": {topic: self.published[topic] for topic in sorted(self.published)},
            "workflows": dict(sorted(outcomes.items())),
        }


def _percentile(ordered: npt.NDArray[np.float64], q: float) -> float:
    """`percentile`'s linear interpolation over a sorted array (NaN if empty)."""
    return float(np.percentile(ordered, q, method="linear")) if len(ordered) else math.nan
