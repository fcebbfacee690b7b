"""The checkers a scenario runs, built with its SLOs; each a fold over the history."""

from __future__ import annotations

from collections.abc import Iterable

from harness.checkers.base import Checker, Dispatch, Verdict, worst
from harness.checkers.consistency import (
    BillingToSupportWindow,
    CasesOnStaleEntitlement,
    InvoicedBeforeEntitled,
)
from harness.checkers.effect_once import EffectOnce
from harness.checkers.nothing_lost import NothingLost
from harness.checkers.partial_updates import PartialUpdates
from harness.checkers.versions import MonotonicVersions
from harness.history import Record
from harness.scenario import Scenario


def build(scenario: Scenario) -> list[Checker]:
    slo = scenario.slo
    return [
        EffectOnce(),
        BillingToSupportWindow(slo.billing_to_support),
        InvoicedBeforeEntitled(slo.invoiced_before_entitled),
        CasesOnStaleEntitlement(slo.cases_on_stale_entitlement),
        NothingLost(slo.nothing_lost),
        PartialUpdates(),
        MonotonicVersions(),
    ]


def check(records: Iterable[Record], scenario: Scenario) -> list[Verdict]:
    """Run every checker over a history (e.g. one read back from `history.jsonl`)."""
    dispatch = Dispatch(build(scenario))
    for record in records:
        dispatch(record)
    return dispatch.verdicts()


__all__ = ["Checker", "Dispatch", "Verdict", "build", "check", "worst"]
