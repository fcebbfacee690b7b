"""Designs with one realistic content bug each (tests/broken_content.py, written by someone who
had not read the checkers) fail the checker that owns the property, on the seed scenario's short
variant; the reference passes every checker on the same runs (test_designs_under_checkers)."""

from __future__ import annotations

import pytest

from tests import broken_content
from tests.conftest import RunDesign

#: Each broken design, and the checker that must catch it.
CAUGHT_BY = [
    ("SupportKeepsItsLevel", "holdings"),
    ("SupportKeepsItsLevel", "cases_on_stale_entitlement"),
    ("ERPContractKeepsFirstLines", "holdings"),
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
