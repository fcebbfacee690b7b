"""The checkers a scenario runs, built with its SLOs; each a fold over the history.

Principles every checker follows (each is proven by a design in tests/broken_designs.py that
breaks it and fails the checker, while the reference passes the same runs):

1. Judge from what the vendor systems saw and hold: their calls (invoke / ok / fail / info),
   their records and the events they sent, plus what the harness itself did (faults, the
   operations team). Never from what a design reports about itself: its attempt numbers, its
   workflow statuses. A design's word may make a verdict stricter (a workflow it says failed is
   not counted as done), never more lenient.
2. Work set aside for people counts only while it is held where operators find it at the end
   of the run: the design's exception queue (`held_at_end` records; live, `GET /exceptions`).
   "Parked, with a reason" in a history is not enough: a crash may have taken it.
3. Reconcile line by line (SKU, quantity, amount, currency) as well as by totals, and judge
   content, not only versions: what each system holds (lines, money, terms, statuses,
   entitlement levels and units, ledger amounts) is compared with the business truth
   (harness/checkers/truth.py: what CPQ sold, never what a design staged), behind and ahead.
4. Time a vendor could not take a write (outage, maintenance, read-only, partition) and time
   work waited on people (`human_time`) are excused from the integration's latency SLOs and
   reported beside the raw figures; how long people took is judged on its own.
5. A verdict says whether the hazards it judges actually occurred in the run (`exercised`):
   a pass nothing put to the test is shown as "not exercised" (harness/checkers/hazards.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from harness.checkers.base import Checker, Dispatch, NotJudged, Status, Verdict, worst
from harness.checkers.consistency import (
    CasesOnStaleEntitlement,
    EntitledBeforeBilled,
    InvoicedBeforeEntitled,
)
from harness.checkers.convergence import Convergence
from harness.checkers.documents import Documents
from harness.checkers.effect_once import EffectOnce
from harness.checkers.end_to_end import EndToEnd
from harness.checkers.holdings import Holdings
from harness.checkers.human import HumanTime
from harness.checkers.lineage import Lineage
from harness.checkers.nothing_lost import NothingLost
from harness.checkers.partial_updates import PartialUpdates
from harness.checkers.plugins import discover
from harness.checkers.reconciliation import Reconciliation
from harness.checkers.retry_hygiene import RetryHygiene
from harness.checkers.versions import MonotonicVersions
from harness.checkers.windows import BillingToSupportWindow, ConsistencyWindow
from harness.history import Record
from harness.scenario import Scenario


def build(scenario: Scenario, only: Collection[str] | None = None) -> list[Checker]:
    """The checkers of a scenario, with its SLOs; those about a system the business does
    without (`systems.cpq: null`) say why they do not judge (rule 6). With `only`, just the
    checkers of those names, and `human_time`, whose record of waits the latency checkers
    read: a verdict does not depend on which other checkers run (a shrink judges one)."""
    slo, absent = scenario.slo, scenario.systems.absent
    # First, so the latency checkers that excuse its waits see each record after it does.
    human = HumanTime(scenario.operations, scenario.start)
    built: list[Checker] = [
        human,
        EffectOnce(slo.effect_once),
        BillingToSupportWindow(slo.billing_to_support, human),
        InvoicedBeforeEntitled(slo.invoiced_before_entitled),
        EntitledBeforeBilled(slo.entitled_before_billed),
        CasesOnStaleEntitlement(slo.cases_on_stale_entitlement),
        NothingLost(slo.nothing_lost, human, absent),
        PartialUpdates(slo.partial_updates, absent),
        MonotonicVersions(slo.monotonic_versions),
        Convergence(slo.convergence, human, absent),
        _unless(
            absent,
            ("cpq", "erp"),
            "lineage",
            "invoices trace to their quote through ERP's order and contract",
        )
        or Lineage(slo.lineage),
        RetryHygiene(slo.retry_hygiene),
        EndToEnd(slo.end_to_end, scenario.duration, human, absent),
        _unless(
            absent,
            ("cpq", "erp"),
            "reconciliation",
            "a quote is reconciled with ERP's order and billing's subscription",
        )
        or Reconciliation(slo.reconciliation),
        _unless(
            absent, ("cpq",), "holdings", "each system's contracts are compared with what CPQ sold"
        )
        or Holdings(slo.holdings),
        Documents(slo.documents, absent),
        *(
            _unless(absent, pair.split("_to_"), pair, f"the window is from {source} to {target}")
            or ConsistencyWindow(source, target, window, human)
            for pair, window in sorted(slo.windows.items())
            for source, _, target in [pair.partition("_to_")]
        ),
        *(plugin.build(scenario) for plugin in discover(scenario.checkers)),
    ]
    if only is None:
        return built
    return [checker for checker in built if checker is human or checker.name in only]


def _unless(absent: Sequence[str], needs: Sequence[str], name: str, what: str) -> NotJudged | None:
    """A stand-in saying why `name` is not judged, if the business lacks a system it needs."""
    lacking = [system for system in needs if system in absent]
    if not lacking:
        return None
    named = " or ".join(system.upper() for system in lacking)
    return NotJudged(name, f"{what}, and this business has no {named}")


def check(records: Iterable[Record], scenario: Scenario) -> list[Verdict]:
    """Run every checker over a history (e.g. one read back from `history.jsonl`)."""
    dispatch = Dispatch(build(scenario))
    for record in records:
        dispatch(record)
    return dispatch.verdicts()


__all__ = ["Checker", "Dispatch", "Status", "Verdict", "build", "check", "worst"]
