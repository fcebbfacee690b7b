"""Consistency between billing and support: how long support lags what billing already shows.

`billing_to_support`: for each contract version billing holds, the time until support's
entitlement reaches that version (the consistency window), against the scenario's p50 / p95 /
max SLO. A version support never reaches counts as missing once it is older than the max SLO.

`invoiced_before_entitled`: invoices the customer could read (posted + `invoice_delivery`)
before support could see the entitlement they pay for, the seed document's "avoidable
escalation", against a tolerated share of invoices.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, percentile, rounded
from harness.history import Record, RunEnded, StateRecord
from harness.scenario import InvoicedBeforeEntitledSLO, WindowSLO
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


class BillingToSupportWindow:
    name: ClassVar[str] = "billing_to_support"
    wants: ClassVar[tuple[type, ...]] = (StateRecord, RunEnded)

    def __init__(self, slo: WindowSLO) -> None:
        self.slo = slo
        self.entitled: dict[str, int] = {}  # contract -> version support shows now
        self.seen: set[tuple[str, int]] = set()  # (contract, version) billing has shown
        self.pending: dict[str, list[tuple[int, float, int]]] = {}  # (version, t, position)
        self.windows: list[tuple[float, str, int, int, int]] = []
        self.missing: list[dict[str, Any]] = []
        self.undecided = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, RunEnded):
            self._close(record.t)
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
            if self.entitled.get(contract, 0) >= version:
                self.windows.append((0.0, contract, version, position, position))
            else:
                self.pending.setdefault(contract, []).append((version, record.t, position))
        elif _is(record, "support", "entitlement"):
            self.entitled[contract] = version
            waiting = self.pending.get(contract)
            if waiting:
                still = []
                for billed_version, billed_at, billed_position in waiting:
                    if billed_version <= version:
                        window = record.t - billed_at
                        self.windows.append(
                            (window, contract, billed_version, billed_position, position)
                        )
                    else:
                        still.append((billed_version, billed_at, billed_position))
                self.pending[contract] = still

    def _close(self, end: float) -> None:
        for contract, waiting in self.pending.items():
            for version, billed_at, position in waiting:
                if end - billed_at > self.slo.max:
                    self.missing.append(
                        {
                            "contract": contract,
                            "contract_version": version,
                            "billed_at": round(billed_at, 3),
                            "billing_position": position,
                            "support_shows": self.entitled.get(contract),
                        }
                    )
                else:
                    self.undecided += 1
        self.pending = {}

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
    wants: ClassVar[tuple[type, ...]] = (StateRecord, RunEnded)

    def __init__(self, slo: InvoicedBeforeEntitledSLO) -> None:
        self.slo = slo
        self.entitled: dict[str, int] = {}
        self.pending: dict[str, list[tuple[int, float, int, str]]] = {}
        self.invoices = 0
        self.early: list[dict[str, Any]] = []
        self.undecided = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, RunEnded):
            for contract, unentitled in self.pending.items():
                for version, posted_at, invoice_position, invoice in unentitled:
                    if record.t > posted_at + self.slo.invoice_delivery:
                        self._early(contract, version, invoice, invoice_position, None)
                    else:
                        self.undecided += 1
            self.pending = {}
            return
        assert isinstance(record, StateRecord)
        key = _contract_version(record)
        if key is None:
            return
        contract, version = key
        if _is(record, "billing", "invoice") and record.change == "created":
            self.invoices += 1
            if self.entitled.get(contract, 0) < version:
                entry = (version, record.t, position, record.entity_id)
                self.pending.setdefault(contract, []).append(entry)
        elif _is(record, "support", "entitlement"):
            self.entitled[contract] = version
            waiting = self.pending.get(contract)
            if waiting:
                still: list[tuple[int, float, int, str]] = []
                for invoiced_version, posted_at, invoice_position, invoice in waiting:
                    if invoiced_version > version:
                        still.append((invoiced_version, posted_at, invoice_position, invoice))
                    elif record.t > posted_at + self.slo.invoice_delivery:
                        lag = record.t - posted_at
                        self._early(contract, invoiced_version, invoice, invoice_position, lag)
                self.pending[contract] = still

    def _early(
        self, contract: str, version: int, invoice: str, position: int, lag: float | None
    ) -> None:
        self.early.append(
            {
                "invoice": invoice,
                "contract": contract,
                "contract_version": version,
                "invoice_position": position,
                "entitlement_lag_s": None if lag is None else round(lag, 3),
            }
        )

    def verdict(self) -> Verdict:
        count = len(self.early)
        share = count / self.invoices if self.invoices else 0.0
        figures = {
            "invoices": self.invoices,
            "invoiced_before_entitled": count,
            "share": round(share, 6),
            "undecided": self.undecided,
        }
        slo = {"max_share": self.slo.max_share, "invoice_delivery_s": self.slo.invoice_delivery}
        if not self.invoices:
            return Verdict(self.name, "unknown", "no invoices were posted", figures, slo)
        summary = (
            f"{count:,} of {self.invoices:,} invoices ({share:.2%}) reached the customer "
            f"before support could see the entitlement"
        )
        status: Status = "fail" if share > self.slo.max_share else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.early[:EVIDENCE_LIMIT])
