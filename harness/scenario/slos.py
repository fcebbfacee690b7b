"""Service-level objectives: what each checker holds a run to, with units.

slo:
  billing_to_support: {p50: 1m, p95: 10m, max: 1h}        # consistency window
  windows:                                                 # more pairs: <source>_to_<target>
    cpq_to_erp: {p50: 1m, p95: 15m, max: 1d}
  invoiced_before_entitled: {max_share: 1%, invoice_delivery: 10m}
  cases_on_stale_entitlement: {max_share: 1%, grace: 5m}
  nothing_lost: {deadline: 1d}
  effect_once: {max_duplicates: 0}
  partial_updates: {max_partial: 0, max_exposure: 1d}
  monotonic_versions: {max_stale_overwrites: 0}
  convergence: {max_diverged: 0}
  lineage: {min_traceable: 100%}
  retry_hygiene: {max_business_retries: 0, max_retry_after_violations: 0, max_amplification: 3}
  end_to_end: {p50: 5m, p95: 30m, max: 1d, min_throughput: 5/h}
  reconciliation: {max_mismatched: 0}
  holdings: {max_mismatched: 0}
  documents: {deadline: 1d, max_wrong: 0}
  entitled_before_billed: {max_share: 0%, grace: 1m}
Every field has a default but `billing_to_support`; durations take units (`90s`, `15m`, `2h`),
shares percentages (`99.5%`) and rates a period (`60/h`).
"""

from __future__ import annotations

from typing import Any

from pydantic import NonNegativeInt, field_validator

from harness.scenario.types import (
    Duration,
    Positive,
    PositiveDuration,
    Probability,
    Rate,
    Spec,
)


class WindowSLO(Spec):
    p50: Duration
    """The median window must not exceed this (a duration)."""
    p95: Duration
    """The 95th percentile must not exceed this (a duration)."""
    max: Duration
    """No window may exceed this (a duration)."""


class InvoicedBeforeEntitledSLO(Spec):
    """Invoices a customer can see (after `invoice_delivery`) before support sees the change.

    `max_share` is the largest tolerated share of invoices, e.g. `0%` or `1%`.
    """

    max_share: Probability = 0.0
    """The largest tolerated share of invoices, e.g. 0% or 1%."""
    invoice_delivery: Duration = 600.0
    """How long after posting a customer can read an invoice (a duration)."""


class CasesSLO(Spec):
    """Cases opened while support has shown an older contract version than billing for longer
    than `grace` (changes take seconds to propagate; an agent cannot expect less)."""

    max_share: Probability = 0.01
    """The largest tolerated share of cases opened on a stale entitlement."""
    grace: Duration = 300.0
    """How long support may lag billing before a case counts (a duration)."""


class NothingLostSLO(Spec):
    deadline: PositiveDuration = 86400.0
    """Every input must be accounted for within this, time waiting on people not counted (a
    duration)."""


#: Systems a consistency window can start from (CPQ: its approval) and end at.
WINDOW_SOURCES = ("cpq", "erp", "billing", "support")
WINDOW_TARGETS = ("erp", "billing", "support")


class EffectOnceSLO(Spec):
    max_duplicates: NonNegativeInt = 0
    """Business effects allowed to happen twice (0: none)."""


class PartialUpdatesSLO(Spec):
    """Contracts left partial at the end, and how long a partial state may last meanwhile."""

    max_partial: NonNegativeInt = 0
    """Contracts allowed to end with ERP, billing and support disagreeing."""
    max_exposure: PositiveDuration | None = None
    """The longest a partial state may last meanwhile (a duration); none: not judged."""


class MonotonicVersionsSLO(Spec):
    max_stale_overwrites: NonNegativeInt = 0
    """Times a system's copy of a contract may go back to an older version."""


class ConvergenceSLO(Spec):
    """Contracts whose systems did not all end on CPQ's latest approved version."""

    max_diverged: NonNegativeInt = 0
    """Contracts allowed to end off CPQ's latest approved version."""


class LineageSLO(Spec):
    """The share of invoices traceable back to their quote through ERP's order and contract."""

    min_traceable: Probability = 1.0
    """The share of invoices that must trace back to their quote (e.g. 100%)."""


class RetryHygieneSLO(Spec):
    max_business_retries: NonNegativeInt = 0
    """Retries of business refusals allowed (an operator's resume is not one)."""
    max_retry_after_violations: NonNegativeInt = 0
    """Retries allowed before the Retry-After a vendor sent."""
    max_amplification: Positive = 3.0
    """Attempts per logical call allowed, for any system."""


class ReconciliationSLO(Spec):
    """Contracts whose quote, ERP order and billing subscription disagree on money."""

    max_mismatched: NonNegativeInt = 0
    """Contracts allowed to disagree on money between quote, ERP order and billing subscription."""


class HoldingsSLO(Spec):
    """Contract records whose content is not what CPQ sold at their version, held though CPQ
    never approved them, or compensations reported that ERP does not show."""

    max_mismatched: NonNegativeInt = 0
    """Contract records allowed to differ from what was sold (0: none)."""


class DocumentsSLO(Spec):
    """Every invoice billing raises reaches the customer (posted), and every posted document
    reaches ERP's ledger once at its amount, within `deadline`; each renewal is invoiced."""

    deadline: PositiveDuration = 86400.0
    """How long an invoice may stay a draft, or a document wait for the ledger (a duration)."""
    max_wrong: NonNegativeInt = 0
    """Documents allowed to be unposted, missing, wrong or unsold in the ledger (0: none)."""


class EntitledBeforeBilledSLO(Spec):
    """Contract versions support entitled before billing held them (service given for what is
    not billed: revenue leakage), for longer than `grace`."""

    max_share: Probability = 0.0
    """The largest tolerated share of entitled contract versions."""
    grace: Duration = 60.0
    """How long support may lead billing before a version counts (a duration)."""


class EndToEndSLO(Spec):
    """From quote approval to ERP, billing and support all showing it; and completions/hour."""

    p50: Duration | None = None
    """From approval to all systems showing it: median (a duration); none: reported, not judged."""
    p95: Duration | None = None
    """The 95th percentile (a duration); none: reported, not judged."""
    max: Duration | None = None
    """The longest (a duration); none: reported, not judged."""
    min_throughput: Rate | None = None
    """Contract versions completed, at least (a rate, e.g. 10/h); none: reported, not judged."""


class SLOSpec(Spec):
    billing_to_support: WindowSLO
    """From billing showing a contract version to support showing it: p50, p95, max."""
    invoiced_before_entitled: InvoicedBeforeEntitledSLO = InvoicedBeforeEntitledSLO()
    """Invoices a customer could read before support could see what they pay for."""
    nothing_lost: NothingLostSLO = NothingLostSLO()
    """Every input accounted for, within a deadline."""
    cases_on_stale_entitlement: CasesSLO = CasesSLO()
    """Cases opened while support showed an older contract than billing."""
    effect_once: EffectOnceSLO = EffectOnceSLO()
    """Each business effect happened once."""
    partial_updates: PartialUpdatesSLO = PartialUpdatesSLO()
    """ERP, billing and support agree at the end, and partial states are short."""
    monotonic_versions: MonotonicVersionsSLO = MonotonicVersionsSLO()
    """No system's contract goes back to an older version."""
    convergence: ConvergenceSLO = ConvergenceSLO()
    """Every system ends on CPQ's latest approved version."""
    lineage: LineageSLO = LineageSLO()
    """Invoices trace back to their quotes."""
    retry_hygiene: RetryHygieneSLO = RetryHygieneSLO()
    """Retries as the vendors saw them: none of business errors, none early, few in all."""
    end_to_end: EndToEndSLO = EndToEndSLO()
    """Approval to all systems showing it, and throughput."""
    reconciliation: ReconciliationSLO = ReconciliationSLO()
    """Quote, order and subscription agree on money."""
    holdings: HoldingsSLO = HoldingsSLO()
    """What each system holds is what CPQ sold at that version: lines, terms, entitlements."""
    documents: DocumentsSLO = DocumentsSLO()
    """Invoices posted, documents in the ledger at their amount, renewals invoiced."""
    entitled_before_billed: EntitledBeforeBilledSLO = EntitledBeforeBilledSLO()
    """Support does not entitle what billing does not hold yet."""
    windows: dict[str, WindowSLO] = {}
    """Further consistency windows, <source>_to_<target> -> {p50, p95, max}, e.g. cpq_to_erp."""
    plugins: dict[str, dict[str, Any]] = {}
    """Thresholds of checker plugins (`checkers:`), by plugin name, as each plugin defines them."""

    @field_validator("windows")
    @classmethod
    def _pairs(cls, windows: dict[str, WindowSLO]) -> dict[str, WindowSLO]:
        for pair in windows:
            source, _, target = pair.partition("_to_")
            if source not in WINDOW_SOURCES or target not in WINDOW_TARGETS or source == target:
                raise ValueError(
                    f"cannot read window {pair!r}: write <source>_to_<target> with a source in "
                    f"{', '.join(WINDOW_SOURCES)} and a different target in "
                    f"{', '.join(WINDOW_TARGETS)}, e.g. erp_to_billing"
                )
            if pair == "billing_to_support":
                raise ValueError("billing_to_support has its own field; set it there")
        return windows
