"""Retry hygiene: business errors are never retried, Retry-After is respected, and retries do
not multiply the load on any system beyond the SLO.

A retry is a call with `attempt > 1`; it belongs to the previous attempt of the same operation
on the same system from the same handler (its trace). Retrying after a business error cannot
help and repeats a refusal; retrying before the Retry-After the server sent is what rate
limits punish. Amplification is attempts per logical call (first attempts), per system.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict
from harness.history import CallRecord, Record
from harness.scenario.slos import RetryHygieneSLO

#: Seconds of slack when comparing a retry's time with the Retry-After it was given.
SLACK_S = 1e-6


class RetryHygiene:
    name: ClassVar[str] = "retry_hygiene"
    wants: ClassVar[tuple[type, ...]] = (CallRecord,)

    def __init__(self, slo: RetryHygieneSLO | None = None) -> None:
        self.slo = slo or RetryHygieneSLO()
        self.pending: dict[int, tuple[str | None, str, str]] = {}  # call -> its logical key
        self.last_failure: dict[tuple[str | None, str, str], tuple[float, str, float | None]] = {}
        self.attempts: dict[str, int] = {}
        self.first_attempts: dict[str, int] = {}
        self.business_retries = 0
        self.early_retries = 0
        self.evidence: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        assert isinstance(record, CallRecord)
        key = (record.trace, record.system, record.operation)
        if record.type == "invoke":
            self.pending[record.call] = key
            self.attempts[record.system] = self.attempts.get(record.system, 0) + 1
            if record.attempt <= 1:
                self.first_attempts[record.system] = self.first_attempts.get(record.system, 0) + 1
                self.last_failure.pop(key, None)
                return
            failed = self.last_failure.pop(key, None)
            if failed is None:
                return
            failed_at, kind, retry_after = failed
            if kind == "business":
                self.business_retries += 1
                self._note("business error retried", record, position)
            elif retry_after is not None and record.t + SLACK_S < failed_at + retry_after:
                self.early_retries += 1
                self._note(f"retried {record.t - failed_at:.3f}s after a {retry_after:g}s "
                           "Retry-After", record, position)  # fmt: skip
            return
        key = self.pending.pop(record.call, key)
        if record.type in ("fail", "info") and record.error_kind is not None:
            self.last_failure[key] = (record.t, record.error_kind, record.retry_after)

    def _note(self, why: str, record: CallRecord, position: int) -> None:
        if len(self.evidence) < EVIDENCE_LIMIT:
            self.evidence.append(
                {"why": why, "system": record.system, "operation": record.operation,
                 "attempt": record.attempt, "trace": record.trace, "position": position}
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
            f"before Retry-After; at most {worst:.2f} attempts per call "
            f"({max(amplification, key=lambda s: amplification[s])})"
        )
        broken = (
            self.business_retries > self.slo.max_business_retries
            or self.early_retries > self.slo.max_retry_after_violations
            or worst > self.slo.max_amplification
        )
        status: Status = "fail" if broken else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.evidence)
