"""Retry hygiene: business errors are never retried, Retry-After is respected, and retries do
not multiply the load on any system beyond the SLO.

Judged from what each vendor saw, never from the design's own attempt numbers: a request is
identified by its system, operation and the business IDs it names, and an invoke of a request
whose last answer was a failure (refused, transient, or no answer) is a retry of it, however the
design counted. Retrying after a business refusal cannot help and repeats it, unless the
operations team acted in between (fixed the quote's master data, or asked for the work again:
the call is made handling an operator's event, its trace says so); reads (`get_`,
`find_`, `list_`, `check_`) answer "not found" as a matter of course and are not judged for it.
Retrying before the Retry-After the server sent is what rate limits punish. Amplification is
invokes per request, per system. The world's own calls (customers, billing staff: their trace
starts `world:`) are not the integration's, and are left out. An orchestrator that crashed
lost what it knew in memory, when to come back included: its Retry-After obligations end with
the crash (a business refusal does not: retrying it is as pointless after a restart).
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict
from harness.history import WORLD_TRACE, CallRecord, FaultRecord, PolicyRecord, Record
from harness.scenario.operations import OPERATOR_EVENT_PREFIX
from harness.scenario.slos import RetryHygieneSLO

#: Seconds of slack when comparing a retry's time with the Retry-After it was given.
SLACK_S = 1e-6
#: Operations that only read: a refusal of one ("not found") is an answer, not an error to fix.
READS = ("get_", "find_", "list_", "check_")

Request = tuple[str, str, tuple[tuple[str, str | int], ...]]


class RetryHygiene:
    name: ClassVar[str] = "retry_hygiene"
    wants: ClassVar[tuple[type, ...]] = (CallRecord, PolicyRecord, FaultRecord)

    def __init__(self, slo: RetryHygieneSLO | None = None) -> None:
        self.slo = slo or RetryHygieneSLO()
        self.pending: dict[int, Request] = {}  # call -> the request it sends
        #: request -> (failed at, error kind, Retry-After), while its last answer is a failure
        self.failed: dict[Request, tuple[float, str, float | None]] = {}
        self.refused_quotes: dict[str, list[Request]] = {}  # business refusals, by quote
        self.attempts: dict[str, int] = {}
        self.first_attempts: dict[str, int] = {}
        self.business_retries = 0
        self.early_retries = 0
        self.evidence: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        restarted = (type(record) is FaultRecord and record.fault == "orchestrator_crash") or (
            type(record) is PolicyRecord and record.policy == "orchestrator"
        )
        if restarted:
            self.failed = {r: f for r, f in self.failed.items() if f[1] == "business"}
            return
        if type(record) is FaultRecord:
            return
        if type(record) is PolicyRecord:
            if record.policy == "operations":  # people acted: trying again may now help
                for request in self.refused_quotes.pop(record.subject, ()):
                    failed = self.failed.get(request)
                    if failed is not None and failed[1] == "business":
                        del self.failed[request]
            return
        assert isinstance(record, CallRecord)
        if record.trace is not None and record.trace.startswith(WORLD_TRACE):
            return
        if record.type == "invoke":
            request = (record.system, record.operation, tuple(sorted((record.keys or {}).items())))
            self.pending[record.call] = request
            self.attempts[record.system] = self.attempts.get(record.system, 0) + 1
            failed = self.failed.pop(request, None)
            if failed is None:
                self.first_attempts[record.system] = self.first_attempts.get(record.system, 0) + 1
                return
            failed_at, kind, retry_after = failed
            if kind == "business":
                asked = (record.trace or "").startswith(OPERATOR_EVENT_PREFIX)
                if not asked and not record.operation.startswith(READS):
                    self.business_retries += 1
                    self._note("business error retried", record, position)
            elif retry_after is not None and record.t + SLACK_S < failed_at + retry_after:
                self.early_retries += 1
                self._note(f"retried {record.t - failed_at:.3f}s after a {retry_after:g}s "
                           "Retry-After", record, position)  # fmt: skip
            return
        request_sent = self.pending.pop(record.call, None)
        if request_sent is None:
            return
        if record.type in ("fail", "info") and record.error_kind is not None:
            self.failed[request_sent] = (record.t, record.error_kind, record.retry_after)
            quote = dict(request_sent[2]).get("quote")
            if record.error_kind == "business" and quote is not None:
                self.refused_quotes.setdefault(str(quote), []).append(request_sent)
        else:
            self.failed.pop(request_sent, None)

    def _note(self, why: str, record: CallRecord, position: int) -> None:
        if len(self.evidence) < EVIDENCE_LIMIT:
            self.evidence.append(
                {"why": why, "system": record.system, "operation": record.operation,
                 "keys": dict(record.keys or {}), "position": position}
            )  # fmt: skip

    def verdict(self) -> Verdict:
        amplification = {
            system: round(self.attempts[system] / max(self.first_attempts.get(system, 0), 1), 4)
            for system in sorted(self.attempts)
        }
        worst = max(amplification.values(), default=1.0)
        figures = {
            "calls": sum(self.attempts.values()),
            "business_retries": self.business_retries,
            "retry_after_violations": self.early_retries,
            "amplification": amplification,
        }
        slo = {
            "max_business_retries": self.slo.max_business_retries,
            "max_retry_after_violations": self.slo.max_retry_after_violations,
            "max_amplification": self.slo.max_amplification,
        }
        if not self.attempts:
            return Verdict(self.name, "unknown", "no call was made", figures, slo)
        summary = (
            f"{self.business_retries:,} business errors retried, {self.early_retries:,} retries "
            f"before Retry-After; at most {worst:.2f} attempts per request "
            f"({max(amplification, key=lambda s: amplification[s])})"
        )
        broken = (
            self.business_retries > self.slo.max_business_retries
            or self.early_retries > self.slo.max_retry_after_violations
            or worst > self.slo.max_amplification
        )
        status: Status = "fail" if broken else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.evidence)
