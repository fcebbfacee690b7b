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
Every field has a default but `billing_to_support`; durations take units (`90s`, `15m`, `2h`),
shares percentages (`99.5%`) and rates a period (`60/h`).
"""

from __future__ import annotations

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
    p95: Duration
    max: Duration


class InvoicedBeforeEntitledSLO(Spec):
    """Invoices a customer can see (after `invoice_delivery`) before support sees the change.

    `max_share` is the largest tolerated share of invoices, e.g. `0%` or `1%`.
    """

    max_share: Probability = 0.0
    invoice_delivery: Duration = 600.0


class CasesSLO(Spec):
    """Cases opened while support has shown an older contract version than billing for longer
    than `grace` (changes take seconds to propagate; an agent cannot expect less)."""

    max_share: Probability = 0.01
    grace: Duration = 300.0


class NothingLostSLO(Spec):
    deadline: PositiveDuration = 86400.0


#: Systems a consistency window can start from (CPQ: its approval) and end at.
WINDOW_SOURCES = ("cpq", "erp", "billing", "support")
WINDOW_TARGETS = ("erp", "billing", "support")


class EffectOnceSLO(Spec):
    max_duplicates: NonNegativeInt = 0


class PartialUpdatesSLO(Spec):
    """Contracts left partial at the end, and how long a partial state may last meanwhile."""

    max_partial: NonNegativeInt = 0
    max_exposure: PositiveDuration | None = None


class MonotonicVersionsSLO(Spec):
    max_stale_overwrites: NonNegativeInt = 0


class ConvergenceSLO(Spec):
    """Contracts whose systems did not all end on CPQ's latest approved version."""

    max_diverged: NonNegativeInt = 0


class LineageSLO(Spec):
    """The share of invoices traceable back to their quote through ERP's order and contract."""

    min_traceable: Probability = 1.0


class RetryHygieneSLO(Spec):
    max_business_retries: NonNegativeInt = 0
    max_retry_after_violations: NonNegativeInt = 0
    max_amplification: Positive = 3.0  # attempts per logical call, for any system


class ReconciliationSLO(Spec):
    """Contracts whose quote, ERP order and billing subscription disagree on money."""

    max_mismatched: NonNegativeInt = 0


class EndToEndSLO(Spec):
    """From quote approval to ERP, billing and support all showing it; and completions/hour."""

    p50: Duration | None = None
    p95: Duration | None = None
    max: Duration | None = None
    min_throughput: Rate | None = None


class SLOSpec(Spec):
    billing_to_support: WindowSLO
    invoiced_before_entitled: InvoicedBeforeEntitledSLO = InvoicedBeforeEntitledSLO()
    nothing_lost: NothingLostSLO = NothingLostSLO()
    cases_on_stale_entitlement: CasesSLO = CasesSLO()
    effect_once: EffectOnceSLO = EffectOnceSLO()
    partial_updates: PartialUpdatesSLO = PartialUpdatesSLO()
    monotonic_versions: MonotonicVersionsSLO = MonotonicVersionsSLO()
    convergence: ConvergenceSLO = ConvergenceSLO()
    lineage: LineageSLO = LineageSLO()
    retry_hygiene: RetryHygieneSLO = RetryHygieneSLO()
    end_to_end: EndToEndSLO = EndToEndSLO()
    reconciliation: ReconciliationSLO = ReconciliationSLO()
    windows: dict[str, WindowSLO] = {}

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
