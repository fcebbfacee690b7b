"""What customers and agents see while support lags billing (the windows themselves are in
`windows.py`).

`invoiced_before_entitled`: invoices the customer could read (posted + `invoice_delivery`)
before support could see the entitlement they pay for, the seed document's "avoidable
escalation", against a tolerated share of invoices.

Both judge the integration on the lag it is responsible for. Time during which support could
not accept a write (its outage, maintenance or read-only window, or a partition from the
orchestrator, as the history's fault records show) is excused, and reported as such; the raw
windows are reported too. An orchestrator crash is never excused: it is the integration's own.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import Verdict, share_verdict
from harness.checkers.holdings import held_grant
from harness.checkers.truth import Truth
from harness.checkers.windows import (
    CatchUp,
    Downtime,
    Waiting,
    contract_version,
    holds,
)
from harness.history import FaultRecord, Record, RunEnded, StateRecord
from harness.scenario import InvoicedBeforeEntitledSLO
from harness.scenario.slos import CasesSLO, EntitledBeforeBilledSLO
from harness.units import format_duration


class InvoicedBeforeEntitled:
    name: ClassVar[str] = "invoiced_before_entitled"
    wants: ClassVar[tuple[type, ...]] = (StateRecord, FaultRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = frozenset({"invoice", "entitlement"})

    def __init__(self, slo: InvoicedBeforeEntitledSLO) -> None:
        self.slo = slo
        self.downtime = Downtime("support")
        self.support = CatchUp()
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
        key = contract_version(record)
        if key is None:
            return
        contract, version = key
        if holds(record, "billing", "invoice") and record.change == "created":
            self.invoices += 1
            if not self.support.shows(contract, version):
                self.support.wait(Waiting(contract, version, record.t, position, record.entity_id))
        elif holds(record, "support", "entitlement"):
            for item in self.support.changed(contract, version):
                lag = record.t - item.since - self.downtime.excused(item.since, record.t)
                if lag > self.slo.invoice_delivery:
                    self._early(item, record.t - item.since)

    def _early(self, invoice: Waiting, lag: float | None) -> None:
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
    entities: ClassVar[frozenset[str]] = frozenset(
        {"quote", "contract", "subscription", "entitlement", "case"}
    )

    def __init__(self, slo: CasesSLO) -> None:
        self.slo = slo
        self.downtime = Downtime("support")
        self.contracts: dict[str, list[str]] = {}  # customer -> contracts
        self.billed: dict[str, int] = {}
        self.entitled: dict[str, int] = {}
        self.truth = Truth()
        self.wrong_grant: set[str] = set()  # contracts whose entitlement grants what is not sold
        self.ahead_since: dict[str, float] = {}  # contract -> since when support is stale
        self.cases = 0
        self.excused = 0
        self.stale: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, FaultRecord):
            self.downtime.observe(record)
            return
        assert isinstance(record, StateRecord)
        if self.truth.observe(position, record) is not None:
            return
        if holds(record, "cpq", "contract") and record.change == "created":
            customer = str(record.keys.get("customer"))
            self.contracts.setdefault(customer, []).append(str(record.keys["contract"]))
            return
        key = contract_version(record)
        if key is not None and holds(record, "billing", "subscription"):
            self.billed[key[0]] = key[1]
            self._track(key[0], record.t)
        elif key is not None and holds(record, "support", "entitlement"):
            self.entitled[key[0]] = key[1]
            sold = self.truth.at(*key)
            if record.values is not None and sold is not None:
                if held_grant(record.values) != sold.grant:
                    self.wrong_grant.add(key[0])
                else:
                    self.wrong_grant.discard(key[0])
            self._track(key[0], record.t)
        elif holds(record, "support", "case") and record.change == "created":
            self._case(position, record)

    def _track(self, contract: str, now: float) -> None:
        """Support is stale while it shows an older version than billing, or grants at its
        version what the business did not sell (a level kept after a cancellation)."""
        behind = self.billed.get(contract, 0) > self.entitled.get(contract, 0)
        if behind or contract in self.wrong_grant:
            self.ahead_since.setdefault(contract, now)
        else:
            self.ahead_since.pop(contract, None)

    def _case(self, position: int, record: StateRecord) -> None:
        self.cases += 1
        customer = str(record.keys.get("customer"))
        now, behind, excused = record.t, [], False
        for contract in self.contracts.get(customer, ()):
            since = self.ahead_since.get(contract, now)
            if now - since <= self.slo.grace:
                continue
            # The integration answers for the lag support could have taken writes in.
            if now - since - self.downtime.excused(since, now) > self.slo.grace:
                behind.append(contract)
            else:
                excused = True
        if not behind:
            self.excused += excused
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
            "than billing, or an entitlement the contract does not grant, for over "
            f"{format_duration(self.slo.grace)}"
        )
        return share_verdict(
            self.name, len(self.stale), self.cases, self.slo.max_share, what, figures, slo,
            self.stale,
        )  # fmt: skip


class EntitledBeforeBilled:
    """Support ahead of billing: a contract version support entitled (granting a level) before
    billing held it, for longer than the grace. Service given for what is not billed is revenue
    leakage (the seed document's "entitlement accuracy"); the windows measure only a target
    lagging its source, so a target ahead of it measures 0 there. Judged from the two systems'
    records; a version billing never reaches counts until the end of the run."""

    name: ClassVar[str] = "entitled_before_billed"
    wants: ClassVar[tuple[type, ...]] = (StateRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = frozenset({"subscription", "entitlement"})

    def __init__(self, slo: EntitledBeforeBilledSLO | None = None) -> None:
        self.slo = slo or EntitledBeforeBilledSLO()
        self.billed: dict[str, int] = {}
        self.ahead: dict[tuple[str, int], tuple[float, int]] = {}  # version -> since, position
        self.entitled = 0
        self.early: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, RunEnded):
            for (contract, version), (since, at) in sorted(self.ahead.items()):
                self._judge(contract, version, since, at, record.t, billed=False)
            self.ahead = {}
            return
        assert isinstance(record, StateRecord)
        key = contract_version(record)
        if key is None:
            return
        contract, version = key
        if holds(record, "billing", "subscription"):
            self.billed[contract] = max(version, self.billed.get(contract, 0))
            for held in [held for held in self.ahead if held[0] == contract and held[1] <= version]:
                since, at = self.ahead.pop(held)
                self._judge(contract, held[1], since, at, record.t, billed=True)
        elif holds(record, "support", "entitlement") and record.change != "reverted":
            granted = record.values is None or held_grant(record.values)[0] != "none"
            if not granted:
                return
            self.entitled += 1
            if self.billed.get(contract, 0) < version:
                self.ahead.setdefault(key, (record.t, position))

    def _judge(
        self, contract: str, version: int, since: float, at: int, until: float, billed: bool
    ) -> None:
        if until - since <= self.slo.grace:
            return
        self.early.append(
            {"contract": contract, "contract_version": version, "entitled_position": at,
             "ahead_of_billing_s": round(until - since, 3), "billing_caught_up": billed}
        )  # fmt: skip

    def verdict(self) -> Verdict:
        figures: dict[str, Any] = {"entitled": self.entitled, "ahead_of_billing": len(self.early)}
        slo = {"max_share": self.slo.max_share, "grace_s": self.slo.grace}
        what = (
            "entitled contract versions ({share:.2%}) were granted by support before billing "
            f"held them, for over {format_duration(self.slo.grace)}"
        )
        return share_verdict(
            self.name, len(self.early), self.entitled, self.slo.max_share, what, figures, slo,
            self.early,
        )  # fmt: skip
