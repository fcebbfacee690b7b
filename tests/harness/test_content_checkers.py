"""Designs with one realistic content bug each (tests/broken_content.py, written by someone who
had not read the checkers) fail the checker that owns the property, on the seed scenario's short
variant; the reference passes every checker on the same runs (test_designs_under_checkers)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.runner import run
from harness.scenario import Scenario
from tests import broken_content
from tests.conftest import RunDesign, scenario_with

#: Each broken design, and the checker that must catch it.
CAUGHT_BY = [
    ("SupportKeepsItsLevel", "holdings"),
    ("SupportKeepsItsLevel", "cases_on_stale_entitlement"),
    ("ERPContractKeepsFirstLines", "holdings"),
    ("RenewalAsAmendment", "holdings"),
    ("RenewalAsAmendment", "documents"),
    ("LedgerInHundredths", "documents"),
    ("DraftAmendmentInvoices", "documents"),
    ("EntitlesBeforeBilling", "entitled_before_billed"),
    ("SilentDeadLetters", "nothing_lost"),
]


@pytest.mark.parametrize(("design", "checker"), CAUGHT_BY)
def test_a_content_bug_fails_the_checker_that_owns_it(
    run_design: RunDesign, design: str, checker: str
) -> None:
    verdicts = {v.checker: v for v in run_design(getattr(broken_content, design)).verdicts}
    assert verdicts[checker].status == "fail", verdicts[checker].summary
    assert verdicts[checker].evidence, "a failure names what it found"


def short_with(**overrides: Any) -> Scenario:
    """The seed scenario's short variant (tests/conftest.py), with more of a hazard."""
    return scenario_with(duration="2d", **{
        "systems.erp.maintenance": [{"once": "2026-03-02T20:00:00Z", "duration": "4h"}],
        "slo.end_to_end": {"p50": "5m", "p95": "5h", "max": "1d"},
        **overrides,
    })  # fmt: skip


def test_a_read_back_that_does_not_wait_for_a_queued_write_duplicates_it(tmp_path: Any) -> None:
    """Support answers some writes after the client's timeout (a tail past 30 s) and keeps no
    idempotency keys: reading back at once finds nothing, and writing again applies twice."""
    scenario = short_with(**{"systems.support.latency": {"p50": "400ms", "p99": "40s",
                                                          "cap": "55s"}})  # fmt: skip
    broken = {v.checker: v for v in run(scenario, broken_content.ShortReadBack, 7,
                                         tmp_path / "broken").verdicts}  # fmt: skip
    assert broken["effect_once"].status == "fail"
    reference = run(scenario, "reference", 7, tmp_path / "reference")
    assert reference.passed, reference.explain()


def test_a_compensation_that_never_reaches_erp_fails_holdings(tmp_path: Any) -> None:
    """Billing has no rate plan for the analytics add-on: what ERP booked must be undone. A
    design that says it cancelled the orders without asking ERP leaves them open."""
    scenario = short_with(**{"world.gaps.unpriced_skus": ["SW-ANALYTICS"]})
    broken = {v.checker: v for v in run(scenario, broken_content.FakeCompensation, 7,
                                         tmp_path / "broken").verdicts}  # fmt: skip
    holdings = broken["holdings"]
    assert holdings.status == "fail" and holdings.figures["compensations_not_shown"] > 0
    reference = {v.checker: v for v in run(scenario, "reference", 7,
                                            tmp_path / "reference").verdicts}  # fmt: skip
    assert reference["holdings"].status == "pass"
    assert reference["holdings"].figures["compensations_not_shown"] == 0


def test_a_relay_that_keeps_messages_in_memory_loses_them_in_a_crash(tmp_path: Any) -> None:
    """The seed scenario's orchestrator host is restarted every 13 minutes in the last two
    hours of sales: messages a relay held in memory between flushes die with it, and no later
    version of those contracts comes to announce them. It staged nothing in an outbox, so
    only the business's own account (each contract all three systems hold is announced)
    finds them. (Every 13 minutes, not 10: billing's callouts are retried 30 minutes apart,
    and crashes in step with them would lose a callout for good, a different story.)"""
    data = scenario_with().model_dump(mode="json", exclude_none=True)
    crashes = [
        {"kind": "orchestrator_crash", "target": "orchestrator", "duration": "1m",
         "start": f"2026-03-08T{22 + minute // 60:02d}:{minute % 60:02d}:00Z"}
        for minute in range(5, 120, 13)
    ]  # fmt: skip
    scenario = scenario_with(faults=[*data.get("faults", []), *crashes])
    broken = {v.checker: v for v in run(scenario, broken_content.RelayInMemory, 7,
                                         tmp_path / "broken").verdicts}  # fmt: skip
    nothing_lost = broken["nothing_lost"]
    assert nothing_lost.status == "fail" and nothing_lost.figures["announcements_lost"] > 0
    assert nothing_lost.figures["messages_staged"] == 0  # by its own account it owed nothing
    reference = {v.checker: v for v in run(scenario, "reference", 7,
                                            tmp_path / "reference").verdicts}  # fmt: skip
    assert reference["nothing_lost"].status == "pass"
