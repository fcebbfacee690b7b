"""Consistency between billing and support: how long support lags what billing already shows.

`billing_to_support`: for each contract version billing holds, the time until support's
entitlement reaches that version (the consistency window), against the scenario's p50 / p95 /
max SLO. A version support never reaches counts as missing once it is older than the max SLO.

`invoiced_before_entitled`: invoices the customer could read (posted + `invoice_delivery`)
before support could see the entitlement they pay for, the seed document's "avoidable
escalation", against a tolerated share of invoices.

Both judge the integration on the lag it is responsible for. Time during which support could
not accept a write (its outage, maintenance or read-only window, or a partition from the
orchestrator, as the history's fault records show) is excused, and reported as such; the raw
windows are reported too. An orchestrator crash is never excused: it is the integration's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from harness.checkers.base import (
    EVIDENCE_LIMIT,
    Verdict,
    percentile,
    rounded,
    share_verdict,
)
from harness.history import FaultRecord, Record, RunEnded, StateRecord
from harness.scenario import InvoicedBeforeEntitledSLO, WindowSLO
from harness.scenario.slos import CasesSLO
from harness.units import format_duration

#: Percentiles kept for the distribution chart: every 5 %, and the tail in detail.
CDF_POINTS = (*range(0, 95, 5), 95, 96, 97, 98, 99, 99.5, 99.9, 100)


def _contract_version(record: StateRecord) -> tuple[str, int] | None:
    contract, version = record.keys.get("contract"), record.keys.get("contract_version")
    if contract is None or version is None:
        return None
    return str(contract), int(version)


def _is(record: StateRecord, system: str, entity: str) -> bool:
    return record.system == system and record.entity == entity


#: Faults of support that excuse its lag: it could not take the write.
EXCUSING_FAULTS = frozenset({"outage", "maintenance", "read_only", "partition"})


class _SupportDowntime:
    """The spans during which support could not accept writes, from the fault records."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self._open = 0
        self._since = 0.0

    def observe(self, record: FaultRecord) -> None:
        if record.system != "support" or record.fault not in EXCUSING_FAULTS:
            return
        if record.phase == "start":
            if self._open == 0:
                self._since = record.t
            self._open += 1
        elif self._open > 0:
            self._open -= 1
            if self._open == 0:
                self.spans.append((self._since, record.t))

    @property
    def down(self) -> bool:
        return self._open > 0

    def excused(self, start: float, end: float) -> float:
        """Seconds of [start, end] during which support was down."""
        spans = [*self.spans, (self._since, end)] if self._open else self.spans
        return sum(max(0.0, min(e, end) - max(s, start)) for s, e in spans)


@dataclass(frozen=True, slots=True)
class _Waiting:
    """Something billing shows at a contract version, waiting for support to show it too."""

    contract: str
    version: int
    since: float
    position: int
    entity_id: str


class _SupportCatchUp:
    """Tracks what support shows per contract and what is still waiting for it."""

    def __init__(self) -> None:
        self.support: dict[str, int] = {}
        self.waiting: dict[str, list[_Waiting]] = {}

    def shows(self, contract: str, version: int) -> bool:
        return self.support.get(contract, 0) >= version

    def wait(self, item: _Waiting) -> None:
        self.waiting.setdefault(item.contract, []).append(item)

    def support_changed(self, contract: str, version: int) -> list[_Waiting]:
        """Support now shows `version`: what that catches up with (older versions included)."""
        self.support[contract] = version
        waiting = self.waiting.get(contract)
        if not waiting:
            return []
        caught = [item for item in waiting if item.version <= version]
        if caught:
            self.waiting[contract] = [item for item in waiting if item.version > version]
        return caught

    def never_caught(self) -> list[_Waiting]:
        """What is still waiting, once the run has ended."""
        left = [item for items in self.waiting.values() for item in items]
        self.waiting = {}
        return left


class BillingToSupportWindow:
    name: ClassVar[str] = "billing_to_support"
    wants: ClassVar[tuple[type, ...]] = (StateRecord, FaultRecord, RunEnded)

    def __init__(self, slo: WindowSLO) -> None:
        self.slo = slo
        self.downtime = _SupportDowntime()
        self.raw: list[float] = []
        self.support = _SupportCatchUp()
        self.seen: set[tuple[str, int]] = set()  # (contract, version) billing has shown
        self.windows: list[tuple[float, str, int, int, int]] = []
        self.missing: list[dict[str, Any]] = []
        self.undecided = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, FaultRecord):
            self.downtime.observe(record)
            return
        if isinstance(record, RunEnded):
            for item in self.support.never_caught():
                if (
                    record.t - item.since - self.downtime.excused(item.since, record.t)
                    > self.slo.max
                ):
                    self.missing.append(
                        {
                            "contract": item.contract,
                            "contract_version": item.version,
                            "billed_at": round(item.since, 3),
                            "billing_position": item.position,
                            "support_shows": self.support.support.get(item.contract),
                        }
                    )
                else:
                    self.undecided += 1
            return
        assert isinstance(record, StateRecord)
        key = _contract_version(record)
        if key is None:
            return
        contract, version = key
        if _is(record, "billing", "subscription"):
            if key in self.seen:
                return
            self.seen.add(key)
            if self.support.shows(contract, version):
                self.windows.append((0.0, contract, version, position, position))
            else:
                item = _Waiting(contract, version, record.t, position, record.entity_id)
                self.support.wait(item)
        elif _is(record, "support", "entitlement"):
            for item in self.support.support_changed(contract, version):
                raw = record.t - item.since
                window = raw - self.downtime.excused(item.since, record.t)
                self.raw.append(raw)
                self.windows.append((window, contract, item.version, item.position, position))

    def verdict(self) -> Verdict:
        ordered = sorted(w[0] for w in self.windows)
        p50, p95 = percentile(ordered, 50), percentile(ordered, 95)
        worst = ordered[-1] if ordered else float("nan")
        figures = {
            "measured": len(ordered),
            "p50_s": rounded(p50),
            "p95_s": rounded(p95),
            "max_s": rounded(worst),
            "missing": len(self.missing),
            "undecided": self.undecided,
            "quantiles_s": {f"{q:g}": rounded(percentile(ordered, q)) for q in CDF_POINTS},
            "raw_p95_s": rounded(percentile(sorted(self.raw), 95)),
            "raw_max_s": rounded(max(self.raw, default=float("nan"))),
            "support_down_s": rounded(sum(e - s for s, e in self.downtime.spans)),
        }
        slo = {"p50_s": self.slo.p50, "p95_s": self.slo.p95, "max_s": self.slo.max}
        if not ordered and not self.missing:
            return Verdict(self.name, "unknown", "no billing change to measure", figures, slo)
        breaches = []
        if ordered:
            for label, value, limit in (
                ("p50", p50, self.slo.p50),
                ("p95", p95, self.slo.p95),
                ("max", worst, self.slo.max),
            ):
                if value > limit:
                    breaches.append(f"{label} {format_duration(value)} > {format_duration(limit)}")
        if self.missing:
            breaches.append(f"{len(self.missing):,} versions never reached support")
        summary = (
            f"p50 {format_duration(p50)} · p95 {format_duration(p95)} · "
            f"max {format_duration(worst)} over {len(ordered):,} changes"
            if ordered
            else "no version reached support"
        )
        raw_max = max(self.raw, default=0.0)
        if ordered and raw_max > worst + 1e-9:
            summary += f" (raw max {format_duration(raw_max)}, support down in between)"
        worst_windows = sorted(self.windows, reverse=True)[: EVIDENCE_LIMIT // 2]
        evidence = [
            {
                "contract": contract,
                "contract_version": version,
                "window_s": round(window, 3),
                "billing_position": billed,
                "support_position": supported,
            }
            for window, contract, version, billed, supported in worst_windows
        ]
        evidence = self.missing[: EVIDENCE_LIMIT // 2] + evidence
        if breaches:
            return Verdict(
                self.name, "fail", f"{summary}: {'; '.join(breaches)}", figures, slo, evidence
            )
        return Verdict(self.name, "pass", summary, figures, slo, evidence)


class InvoicedBeforeEntitled:
    name: ClassVar[str] = "invoiced_before_entitled"
    wants: ClassVar[tuple[type, ...]] = (StateRecord, FaultRecord, RunEnded)

    def __init__(self, slo: InvoicedBeforeEntitledSLO) -> None:
        self.slo = slo
        self.downtime = _SupportDowntime()
        self.support = _SupportCatchUp()
        self.invoices = 0
        self.early: list[dict[str, Any]] = []
        self.undecided = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, FaultRecord):
            self.downtime.observe(record)
            return
        if isinstance(record, RunEnded):
            for item in self.support.never_caught():
                lag = record.t - item.since - self.downtime.excused(item.since, record.t)
                if lag > self.slo.invoice_delivery:
                    self._early(item, None)
                else:
                    self.undecided += 1
            return
        assert isinstance(record, StateRecord)
        key = _contract_version(record)
        if key is None:
            return
        contract, version = key
        if _is(record, "billing", "invoice") and record.change == "created":
            self.invoices += 1
            if not self.support.shows(contract, version):
                self.support.wait(_Waiting(contract, version, record.t, position, record.entity_id))
        elif _is(record, "support", "entitlement"):
            for item in self.support.support_changed(contract, version):
                lag = record.t - item.since - self.downtime.excused(item.since, record.t)
                if lag > self.slo.invoice_delivery:
                    self._early(item, record.t - item.since)

    def _early(self, invoice: _Waiting, lag: float | None) -> None:
        self.early.append(
            {
                "invoice": invoice.entity_id,
                "contract": invoice.contract,
                "contract_version": invoice.version,
                "invoice_position": invoice.position,
                "entitlement_lag_s": None if lag is None else round(lag, 3),
            }
        )

    def verdict(self) -> Verdict:
        figures: dict[str, Any] = {
            "invoices": self.invoices,
            "invoiced_before_entitled": len(self.early),
            "undecided": self.undecided,
        }
        slo = {"max_share": self.slo.max_share, "invoice_delivery_s": self.slo.invoice_delivery}
        what = (
            "invoices ({share:.2%}) reached the customer before support could see the entitlement"
        )
        return share_verdict(
            self.name, len(self.early), self.invoices, self.slo.max_share, what, figures, slo,
            self.early,
        )  # fmt: skip


class CasesOnStaleEntitlement:
    """Cases opened while support showed an older version of one of the customer's contracts
    than billing already did: the agent judged the case on a stale entitlement."""

    name: ClassVar[str] = "cases_on_stale_entitlement"
    wants: ClassVar[tuple[type, ...]] = (StateRecord, FaultRecord)

    def __init__(self, slo: CasesSLO) -> None:
        self.slo = slo
        self.downtime = _SupportDowntime()
        self.contracts: dict[str, list[str]] = {}  # customer -> contracts
        self.billed: dict[str, int] = {}
        self.entitled: dict[str, int] = {}
        self.ahead_since: dict[str, float] = {}  # contract -> since when billing is ahead
        self.cases = 0
        self.excused = 0
        self.stale: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, FaultRecord):
            self.downtime.observe(record)
            return
        assert isinstance(record, StateRecord)
        if _is(record, "cpq", "contract") and record.change == "created":
            customer = str(record.keys.get("customer"))
            self.contracts.setdefault(customer, []).append(str(record.keys["contract"]))
            return
        key = _contract_version(record)
        if key is not None and _is(record, "billing", "subscription"):
            self.billed[key[0]] = key[1]
            self._track(key[0], record.t)
        elif key is not None and _is(record, "support", "entitlement"):
            self.entitled[key[0]] = key[1]
            self._track(key[0], record.t)
        elif _is(record, "support", "case") and record.change == "created":
            self._case(position, record)

    def _track(self, contract: str, now: float) -> None:
        if self.billed.get(contract, 0) > self.entitled.get(contract, 0):
            self.ahead_since.setdefault(contract, now)
        else:
            self.ahead_since.pop(contract, None)

    def _case(self, position: int, record: StateRecord) -> None:
        self.cases += 1
        customer = str(record.keys.get("customer"))
        behind = [
            contract
            for contract in self.contracts.get(customer, ())
            if record.t - self.ahead_since.get(contract, record.t) > self.slo.grace
        ]
        if not behind:
            return
        if self.downtime.down:
            self.excused += 1
            return
        self.stale.append(
            {"case": record.entity_id, "customer": customer, "contracts_behind": behind,
             "case_position": position}
        )  # fmt: skip

    def verdict(self) -> Verdict:
        figures: dict[str, Any] = {
            "cases": self.cases,
            "on_stale_entitlement": len(self.stale),
            "excused_support_down": self.excused,
        }
        slo = {"max_share": self.slo.max_share, "grace_s": self.slo.grace}
        what = (
            "cases ({share:.2%}) were opened while support had shown an older contract version "
            f"than billing for over {format_duration(self.slo.grace)}"
        )
        return share_verdict(
            self.name, len(self.stale), self.cases, self.slo.max_share, what, figures, slo,
            self.stale,
        )  # fmt: skip
