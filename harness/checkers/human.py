"""Human time: how long work waited on people, excused from the integration's latency SLOs.

A contract version that a vendor refused for a business reason (ERP: an unmapped SKU, a missing
tax code) cannot move until the operations team fixes the cause, in its business hours. That wait
is not integration lag, so the latency checkers (the consistency windows, `end_to_end`) excuse it
as they excuse a vendor's downtime, and report it beside their raw figures. It is judged here
instead, against the scenario's `operations:` rules: each exception worked within its rule's
`within`, in business time.

Rules (judged from what the vendors and the operations team did, not from the design's word):
1. A wait opens at a vendor's business refusal of a call naming the quote (the `fail` record of
   a call whose `invoke` named it), and closes when the operations team acts on that quote's
   workflow (a `policy` record of `operations`: resolve, skip, compensate, replay). People
   cannot act before they are told: where the design tells them later (an `exceptions /
   parked` note after its compensation's calls), the wait opens at the telling, and the time
   before it is the integration's own.
2. A refusal nobody acted on by the end of the run counts as waiting only while the workflow's
   last status is `parked` (a design that refused and moved on was not waiting on anyone).
3. The excused time of a contract is the union of its quotes' waits: a later version stuck
   behind an earlier parked one waits on the same people.
4. A version the operations team skipped or compensated was closed by people: it is no longer
   the integration's to deliver, and the latency checkers leave it out.
"""

from __future__ import annotations

import math
from array import array
from datetime import datetime
from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, percentile, rounded
from harness.history import CallRecord, PolicyRecord, Record, RunEnded, WorkflowRecord
from harness.scenario.operations import OperationsSpec, business_seconds
from harness.units import format_duration

#: What the operations team does that ends a wait.
ACTS = frozenset({"operator.resolve", "operator.skip", "operator.compensate", "operator.replay"})
#: What closes the work for good (rule 4).
CLOSES = frozenset({"operator.skip", "operator.compensate"})
#: A little slack for the rounding of recorded times.
SLACK_S = 1.0


class HumanTime:
    """The `human_time` checker, and the record of waits the latency checkers excuse."""

    name: ClassVar[str] = "human_time"
    wants: ClassVar[tuple[type, ...]] = (CallRecord, PolicyRecord, WorkflowRecord, RunEnded)

    def __init__(self, operations: OperationsSpec, calendar_start: datetime) -> None:
        self.operations, self.calendar_start = operations, calendar_start
        self._asked: dict[int, tuple[str, str, int]] = {}  # call -> quote, contract, version
        self._versions: dict[str, tuple[str, int]] = {}  # refused quote -> contract, version
        self.closed: set[tuple[str, int]] = set()  # (contract, version) closed by people
        #: quote -> (contract, refused at, error code, position of the refusal)
        self._refused: dict[str, tuple[str, float, str, int]] = {}
        self._waiting: dict[str, set[str]] = {}  # contract -> its refused quotes, while open
        self._parked: set[str] = set()  # workflows whose last status is parked
        self._told: set[int] = set()  # refusals (by position) whose wait opened at the telling
        self.spans: dict[str, list[tuple[float, float]]] = {}  # contract -> waits
        self.business = array("d")  # each closed wait, in business seconds
        self.late: list[dict[str, Any]] = []
        self.waiting_at_end = 0

    def observe(self, position: int, record: Record) -> None:
        if type(record) is CallRecord:
            if record.type == "invoke":
                keys = record.keys or {}
                if "quote" in keys and "contract" in keys:
                    version = int(keys.get("contract_version", 0))
                    self._asked[record.call] = (str(keys["quote"]), str(keys["contract"]), version)
                return
            asked = self._asked.pop(record.call, None)
            if asked is not None and record.type == "fail" and record.error_kind == "business":
                quote, contract, version = asked
                self._versions[quote] = (contract, version)
                if quote not in self._refused:
                    code = record.error_code or ""
                    self._refused[quote] = (contract, record.t, code, position)
                    self._waiting.setdefault(contract, set()).add(quote)
        elif type(record) is PolicyRecord:
            if record.policy == "exceptions" and record.event == "parked":
                waiting = self._refused.get(record.subject)
                if waiting is not None and waiting[1] < record.t and waiting[3] not in self._told:
                    contract, _, code, position = waiting
                    self._told.add(position)
                    self._refused[record.subject] = (contract, record.t, code, position)
            elif record.policy == "operations" and record.event in ACTS:
                self._acted(record.subject, record.t)
                if record.event in CLOSES and record.subject in self._versions:
                    self.closed.add(self._versions[record.subject])
        elif type(record) is WorkflowRecord:
            if record.status == "parked":
                self._parked.add(record.workflow)
            else:
                self._parked.discard(record.workflow)
        elif type(record) is RunEnded:
            for quote, (contract, since, code, refused) in sorted(self._refused.items()):
                if quote not in self._parked:
                    continue
                self.waiting_at_end += 1
                self.spans.setdefault(contract, []).append((since, record.t))
                self._judge(quote, code, since, record.t, refused, open_=True)
            self._refused.clear()
            self._waiting.clear()

    def _acted(self, quote: str, at: float) -> None:
        refused = self._refused.pop(quote, None)
        if refused is None:
            return
        contract, since, code, position = refused
        self._waiting[contract].discard(quote)
        self.spans.setdefault(contract, []).append((since, at))
        self.business.append(self._judge(quote, code, since, at, position, open_=False))

    def _judge(
        self, quote: str, code: str, since: float, until: float, position: int, *, open_: bool
    ) -> float:
        took = business_seconds(self.calendar_start, since, until, self.operations.business_hours)
        rule = self.operations.rule_for(code)
        if rule is not None and took > rule.within + SLACK_S:
            self.late.append(
                {
                    "quote": quote,
                    "code": code,
                    "business_s": round(took, 3),
                    "rule_within_s": rule.within,
                    "still_waiting": open_,
                    "refused_position": position,
                }
            )
        return took

    def clipped(self, contract: str, start: float, end: float) -> list[tuple[float, float]]:
        """The parts of [start, end] during which `contract` waited on people (rule 3), waits
        still open included."""
        spans = list(self.spans.get(contract, ()))
        for quote in self._waiting.get(contract, ()):
            if quote in self._parked:
                spans.append((self._refused[quote][1], math.inf))
        return [
            (max(since, start), min(until, end))
            for since, until in spans
            if until > start and since < end
        ]

    def total_s(self) -> float:
        return sum(covered(self.clipped(c, 0.0, math.inf)) for c in self.spans)

    def verdict(self) -> Verdict:
        ordered = sorted(self.business)
        figures = {
            "worked": len(ordered),
            "waiting_at_end": self.waiting_at_end,
            "late": len(self.late),
            "p50_business_s": rounded(percentile(ordered, 50)),
            "max_business_s": rounded(ordered[-1] if ordered else float("nan")),
            "human_s": round(self.total_s(), 3) if self.spans else 0,  # an int, as a sum of none
        }
        hours = self.operations.business_hours
        slo = {f"within_s.{rule.code}": rule.within for rule in self.operations.exceptions} | {
            "business_hours": f"{hours.days} {hours.start}-{hours.end} {hours.tz}"
        }
        if not ordered and not self.waiting_at_end:
            return Verdict(self.name, "pass", "no work waited on people", figures, slo)
        summary = (
            f"{len(ordered):,} exceptions worked by operations"
            + (
                f" in p50 {format_duration(percentile(ordered, 50))} · max "
                f"{format_duration(ordered[-1])} of business time"
                if ordered
                else ""
            )
            + f"; {self.waiting_at_end:,} still waiting at the end; "
            f"{format_duration(self.total_s())} of contract time waited on people"
        )
        status: Status = "fail" if self.late else "pass"
        overdue = sum(1 for item in self.late if item["still_waiting"])
        if self.late:
            summary += f": {len(self.late):,} waited longer than their rule allows"
        if overdue:
            summary += f" ({overdue:,} never acted on: did the operators ever see them?)"
        return Verdict(self.name, status, summary, figures, slo, self.late[:EVIDENCE_LIMIT])


def covered(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of the spans."""
    total, reached = 0.0, -math.inf
    for since, until in sorted(spans):
        low = max(since, reached)
        if until > low:
            total += until - low
            reached = until
    return total
