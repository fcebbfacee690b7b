"""The simulated operations team works what the reference parks or dead-letters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.designs.reference import ReferenceDesign
from harness.engine import retry
from harness.history import PolicyRecord, Record, WorkflowRecord, read_history
from harness.runner import run
from harness.scenario.operations import BusinessHours, after_business_time, business_seconds
from tests.harness.test_faults import fault, quiet

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def test_business_time_skips_evenings_and_weekends() -> None:
    hours = BusinessHours(days="mon-fri", start="08:00", end="18:00", tz="UTC")
    friday_five_pm = (4 * 24 + 17) * 3600.0
    done = after_business_time(MONDAY, friday_five_pm, 4 * 3600, hours)
    assert done == (7 * 24 + 11) * 3600.0  # one hour on Friday, three on Monday: 11:00
    assert after_business_time(MONDAY, 6 * 3600.0, 3600, hours) == 9 * 3600.0  # starts at 08:00


@given(start=st.floats(0, 30 * 86400), work=st.floats(1, 5 * 86400))
def test_business_seconds_measures_what_after_business_time_adds(start: float, work: float) -> None:
    """human_time measures people's time with one, the operations team spends it with the other."""
    hours = BusinessHours(days="mon-fri", start="08:00", end="18:00", tz="Europe/Berlin")
    done = after_business_time(MONDAY, start, work, hours)
    assert abs(business_seconds(MONDAY, start, done, hours) - work) < 1e-3
    assert business_seconds(MONDAY, start, start, hours) == 0


def statuses(records: list[Record], workflow: str) -> list[str]:
    return [r.status for r in records if isinstance(r, WorkflowRecord) and r.workflow == workflow]


def run_ops(
    tmp_path: Path, operations: dict[str, Any], *faults: dict[str, Any], design: Any = "reference"
) -> tuple[Any, list[Record]]:
    result = run(quiet(operations=operations, faults=list(faults)), design, 7, tmp_path)
    return result, list(read_history(result.run_dir / "history.jsonl"))


HOURS = {"days": "mon-sun", "start": "00:00", "end": "23:59", "tz": "UTC"}


def test_a_parked_exception_is_fixed_and_resumed(tmp_path: Path) -> None:
    rule = {"code": "TAX_CODE_MISSING", "fix": "master_data", "within": "2h", "then": "resume"}
    result, records = run_ops(tmp_path, {"business_hours": HOURS, "exceptions": [rule]})
    parked = {r.workflow for r in records if isinstance(r, WorkflowRecord) and r.status == "parked"}
    assert parked
    for workflow in parked:
        history = statuses(records, workflow)
        assert history.index("parked") < history.index("resumed") < history.index("completed")
        assert history[-1] == "completed"
    fixes = [r for r in records if isinstance(r, PolicyRecord) and r.event == "fixed_master_data"]
    assert fixes and result.passed


def test_operations_can_skip_instead(tmp_path: Path) -> None:
    rule = {"code": "*", "within": "1h", "then": "skip"}
    _, records = run_ops(tmp_path, {"business_hours": HOURS, "exceptions": [rule]})
    skipped = [r for r in records if isinstance(r, WorkflowRecord) and r.status == "skipped"]
    assert skipped and all("skipped by operations" in (r.reason or "") for r in skipped)


def test_retries_spent_go_to_the_dead_letters_and_are_replayed(tmp_path: Path) -> None:
    """A short retry budget against a two-hour ERP outage; operators replay an hour later."""

    def impatient() -> ReferenceDesign:
        return ReferenceDesign(retry(initial=1, max_interval=60, max_attempts=3))

    operations = {"business_hours": HOURS, "dead_letters": {"replay_after": "1h"}}
    result, records = run_ops(tmp_path, operations, fault("outage", target="erp"), design=impatient)
    dead = [r for r in records if isinstance(r, WorkflowRecord) and r.status == "dead_lettered"]
    assert dead
    for record in dead:
        assert statuses(records, record.workflow)[-1] in ("completed", "superseded")
    replays = [r for r in records if isinstance(r, PolicyRecord) and r.event == "operator.replay"]
    assert len(replays) >= len({r.workflow for r in dead})
    assert {v.checker: v.status for v in result.verdicts}["nothing_lost"] == "pass"


def test_a_permanent_billing_refusal_is_compensated_in_erp(tmp_path: Path) -> None:
    """SW-ANALYTICS has no billing rate plan: ERP books the order, billing refuses it."""
    from harness.history import StateRecord

    scenario = quiet(**{"world.gaps.unpriced_skus": ["SW-ANALYTICS"]})
    result = run(scenario, "reference", 7, tmp_path)
    records = list(read_history(result.run_dir / "history.jsonl"))
    compensated = [r for r in records if isinstance(r, PolicyRecord) and r.event == "compensated"]
    assert compensated
    parked = {
        r.workflow: r.reason
        for r in records
        if isinstance(r, WorkflowRecord) and r.status == "parked"
    }
    for note in compensated:
        assert (
            "RATE_PLAN_NOT_FOUND" in parked[note.subject] and "compensated" in parked[note.subject]
        )
    cancelled = {r.entity_id for r in records if isinstance(r, StateRecord)
                 and r.entity == "sales_order" and r.change == "updated"}  # fmt: skip
    undone = {order for note in compensated if note.details for order in note.details["orders"]}
    assert undone and undone <= cancelled
    final: dict[tuple[str, str], int] = {}
    for r in records:
        if isinstance(r, StateRecord) and r.entity in ("contract", "subscription"):
            final[(r.system, str(r.keys["contract"]))] = int(r.keys.get("contract_version", 0))
    for (system, contract), version in final.items():
        if system == "erp":  # no partial update: ERP agrees with billing on every contract
            assert version == final.get(("billing", contract), 0), contract
    verdicts = {v.checker: v.status for v in result.verdicts}
    assert verdicts["effect_once"] == "pass" and verdicts["nothing_lost"] == "pass"


def test_invoices_payments_and_reversals_reach_the_ledger_once(tmp_path: Path) -> None:
    from tests.broken_designs import ForgetsTheLedger

    scenario = quiet(
        **{
            "workload.payments": {"share": "100%", "delay": {"p50": "2h", "p99": "8h"}},
            "workload.invoice_reversals": "10%",
            "workload.renewals": "6/d",
            "workload.cancellations": "4/d",
            "slo.nothing_lost.deadline": "6h",
        }
    )
    result = run(scenario, "reference", 7, tmp_path / "reference")
    nothing_lost = next(v for v in result.verdicts if v.checker == "nothing_lost")
    figures = nothing_lost.figures
    assert figures["ledger_documents"] > 100
    assert figures["posted_to_ledger"] + figures["ledger_parked"] == figures["ledger_documents"]
    records = list(read_history(result.run_dir / "history.jsonl"))
    entries = [r for r in records if getattr(r, "entity", None) == "journal_entry"]
    kinds = {str(r.effect_key).split(":")[0] for r in entries}  # type: ignore[attr-defined]
    assert kinds == {"invoice", "payment", "credit_memo"}
    assert result.passed
    broken = run(scenario, ForgetsTheLedger, 7, tmp_path / "broken")
    verdict = next(v for v in broken.verdicts if v.checker == "nothing_lost")
    assert verdict.status == "fail" and verdict.figures["posted_to_ledger"] == 0
    assert any("invoice" in item or "payment" in item for item in verdict.evidence)


def test_dead_letters_can_be_compensated_instead_of_replayed(tmp_path: Path) -> None:
    """Billing is down past a short retry budget after ERP booked: operators undo ERP's part."""
    from harness.history import StateRecord

    def impatient() -> ReferenceDesign:
        return ReferenceDesign(retry(initial=1, max_interval=60, max_attempts=3))

    operations = {
        "business_hours": HOURS, "dead_letters": {"replay_after": "3h", "then": "compensate"},
    }  # fmt: skip
    result, records = run_ops(
        tmp_path, operations, fault("outage", target="billing"), design=impatient
    )
    dead = {r.workflow for r in records if isinstance(r, WorkflowRecord)
            and r.status == "dead_lettered" and "billing" in (r.reason or "")}  # fmt: skip
    assert dead
    for workflow in dead:
        assert statuses(records, workflow)[-1] == "compensated"
    undone = [r for r in records if isinstance(r, PolicyRecord) and r.event == "compensated"]
    orders = {order for note in undone if note.details for order in note.details["orders"]}
    cancelled = {r.entity_id for r in records if isinstance(r, StateRecord)
                 and r.entity == "sales_order" and r.change == "updated"}  # fmt: skip
    assert orders and orders <= cancelled
    verdicts = {v.checker: v for v in result.verdicts}
    assert verdicts["partial_updates"].status == "pass"
    assert verdicts["effect_once"].status == "pass"
