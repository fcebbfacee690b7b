"""The checkers' principles (harness/checkers/__init__.py), each proven by a design that breaks
it in the way careless designs do, on the seed scenario: the checker judging from what the
vendors saw and hold catches it, where the design's own account would not."""

from __future__ import annotations

from typing import Any

from tests.broken_designs import (
    DropsALineInERP,
    FailsEvenVersions,
    KeepsExceptionsInMemory,
    OwnRetryLoop,
)
from tests.conftest import RunDesign


def verdicts(result: Any) -> dict[str, Any]:
    return {v.checker: v for v in result.verdicts}


def test_a_retry_loop_of_its_own_is_seen_from_the_vendors_side(run_design: RunDesign) -> None:
    """Its calls all say attempt 1, so by its own account it never retried; support saw the same
    requests again a second after a 429 that asked for more patience."""
    result = run_design(OwnRetryLoop)
    hygiene = verdicts(result)["retry_hygiene"]
    assert hygiene.status == "fail" and hygiene.figures["retry_after_violations"] > 0
    assert "Retry-After" in hygiene.evidence[0]["why"]
    history = (result.run_dir / "history.jsonl").read_text()
    assert '"attempt":2' not in history  # its own account shows no retry at all
    reference = verdicts(run_design("reference"))["retry_hygiene"]
    assert reference.status == "pass"


def test_lines_left_out_of_erp_with_the_total_kept_fail_reconciliation(
    run_design: RunDesign,
) -> None:
    result = verdicts(run_design(DropsALineInERP))
    reconciliation = result["reconciliation"]
    assert reconciliation.status == "fail"
    mismatch = reconciliation.evidence[0]
    assert mismatch["differ"] == ["ERP order lines"]  # the totals agree
    assert mismatch["quoted"]["total"] == mismatch["erp_order"]["total"]
    assert len(mismatch["erp_order"]["lines"]) == len(mismatch["quoted"]["lines"]) - 1


def test_exceptions_kept_in_memory_are_lost_in_the_crash(run_design: RunDesign) -> None:
    """The seed scenario's orchestrator crash lands while Brazilian quotes wait on operations."""
    result = verdicts(run_design(KeepsExceptionsInMemory))
    nothing_lost = result["nothing_lost"]
    assert nothing_lost.status == "fail" and nothing_lost.figures["lost"] > 0
    forgotten = [item for item in nothing_lost.evidence if "why" in item]
    assert forgotten and "no exception is held for it at the end" in forgotten[0]["why"]
    reference = verdicts(run_design("reference"))
    assert reference["nothing_lost"].status == "pass"
    assert reference["nothing_lost"].figures["lost"] == 0


def test_a_failed_workflow_is_not_completed_by_a_later_version(run_design: RunDesign) -> None:
    result = verdicts(run_design(FailsEvenVersions))
    nothing_lost = result["nothing_lost"]
    assert nothing_lost.status == "fail"
    assert nothing_lost.figures["failed"] > 0
    failed = next(item for item in nothing_lost.evidence if "workflow_status" in item)
    assert failed["workflow_status"] == "failed" and failed["contract_version"] % 2 == 0
