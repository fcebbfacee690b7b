"""The convergence, lineage, retry-hygiene, end-to-end and monotonic-versions checkers: on
hand-made histories, and each failing for its own reason against a design broken for it."""

from __future__ import annotations

from typing import Any

from harness.checkers.convergence import Convergence
from harness.checkers.end_to_end import EndToEnd
from harness.checkers.lineage import Lineage
from harness.checkers.partial_updates import PartialUpdates
from harness.checkers.retry_hygiene import RetryHygiene
from harness.checkers.versions import MonotonicVersions
from harness.history import CallRecord, Record, RunEnded, StateRecord
from harness.scenario import EndToEndSLO, MonotonicVersionsSLO, RetryHygieneSLO
from tests.broken_designs import DropsALineInBilling, GivesUpSilently, SkipsTheERPOrder
from tests.conftest import RunDesign, scenario_with
from tests.harness.test_checkers import approval, feed, state


def verdicts(result: Any) -> dict[str, Any]:
    return {v.checker: v for v in result.verdicts}


def holders(t: float, version: int) -> list[Record]:
    return [
        state(t, "erp", "contract", version),
        state(t, "billing", "subscription", version),
        state(t, "support", "entitlement", version),
    ]


def test_three_systems_agreeing_on_an_old_version_have_not_converged() -> None:
    stuck = [approval(0, 1), approval(10, 2), *holders(20, 1), RunEnded(100)]
    assert feed(PartialUpdates(), stuck).status == "pass"  # type: ignore[attr-defined]
    verdict = feed(Convergence(), stuck)
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    assert verdict.evidence == [  # type: ignore[attr-defined]
        {"contract": "CT-1", "approved": 2, "erp_billing_support": [1, 1, 1]}
    ]
    assert feed(Convergence(), [*stuck[:-1], *holders(30, 2), RunEnded(100)]).status == "pass"  # type: ignore[attr-defined]


def test_lineage_breaks_where_erp_never_booked_the_quote() -> None:
    invoice = StateRecord(
        30, "billing", "invoice", "INV-1", "created", 1,
        {"contract": "CT-1", "contract_version": 1, "quote": "Q-CT-1-1", "invoice": "INV-1"},
    )  # fmt: skip
    order = StateRecord(
        20, "erp", "sales_order", "SO-1", "created", 1, {"quote": "Q-CT-1-1", "contract": "CT-1"}
    )
    traced = [approval(0, 1), order, state(21, "erp", "contract", 1), invoice]
    assert feed(Lineage(), traced).status == "pass"  # type: ignore[attr-defined]
    verdict = feed(Lineage(), [approval(0, 1), state(21, "erp", "contract", 1), invoice])
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    assert verdict.evidence[0]["why"] == "ERP booked no sales order for quote Q-CT-1-1"  # type: ignore[attr-defined]


def call(t: float, kind: str, number: int, attempt: int, **fields: Any) -> CallRecord:
    return CallRecord(t, kind, number, "billing", "amend", attempt, "E-1", **fields)


def test_retry_hygiene_catches_business_retries_and_early_retries() -> None:
    polite = [
        call(0, "invoke", 1, 1), call(1, "fail", 1, 1, error_kind="transient", retry_after=60),
        call(61, "invoke", 2, 2), call(62, "ok", 2, 2),
    ]  # fmt: skip
    verdict = feed(RetryHygiene(), polite)
    assert verdict.status == "pass"  # type: ignore[attr-defined]
    assert verdict.figures["amplification"] == {"billing": 2.0}  # type: ignore[attr-defined]
    early = [*polite[:2], call(10, "invoke", 2, 2), call(11, "ok", 2, 2)]
    assert feed(RetryHygiene(), early).figures["retry_after_violations"] == 1  # type: ignore[attr-defined]
    business = [call(0, "invoke", 1, 1), call(1, "fail", 1, 1, error_kind="business"),
                call(5, "invoke", 2, 2)]  # fmt: skip
    verdict = feed(RetryHygiene(), business)
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    assert verdict.evidence[0]["why"] == "business error retried"  # type: ignore[attr-defined]
    loose = RetryHygieneSLO(max_business_retries=1)
    assert feed(RetryHygiene(loose), business).status == "pass"  # type: ignore[attr-defined]


def test_end_to_end_latency_and_throughput_against_the_slo() -> None:
    history = [approval(0, 1), *holders(120, 1), approval(200, 2), *holders(800, 2)]
    verdict = feed(EndToEnd(EndToEndSLO(p95=900.0), duration_s=3600), history)
    assert verdict.status == "pass"  # type: ignore[attr-defined]
    assert verdict.figures["completed"] == 2 and verdict.figures["max_s"] == 600  # type: ignore[attr-defined]
    strict = EndToEndSLO(max="5m", min_throughput="10/h")  # type: ignore[arg-type]
    verdict = feed(EndToEnd(strict, duration_s=3600), history)
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    assert "max 10m > 5m" in verdict.summary and "throughput 2.0/h < 10.0/h" in verdict.summary  # type: ignore[attr-defined]


def test_a_compensation_revert_is_not_a_stale_overwrite() -> None:
    writes = [
        state(0, "erp", "contract", 1), state(1, "erp", "contract", 2, change="updated"),
        state(2, "erp", "contract", 1, change="reverted"),
    ]  # fmt: skip
    assert feed(MonotonicVersions(), writes).status == "pass"  # type: ignore[attr-defined]
    stale = [*writes[:2], state(2, "erp", "contract", 1, change="updated")]
    assert feed(MonotonicVersions(), stale).status == "fail"  # type: ignore[attr-defined]
    tolerant = MonotonicVersionsSLO(max_stale_overwrites=1)
    assert feed(MonotonicVersions(tolerant), stale).status == "pass"  # type: ignore[attr-defined]


def test_designs_broken_for_each_checker_fail_it(run_design: RunDesign) -> None:
    skipped = verdicts(run_design(SkipsTheERPOrder))
    assert skipped["lineage"].status == "fail"
    assert skipped["lineage"].evidence[0]["why"].startswith("ERP booked no sales order")
    assert skipped["effect_once"].status == "pass"
    gave_up = verdicts(run_design(GivesUpSilently))
    assert gave_up["convergence"].status == "fail" and gave_up["lineage"].status == "pass"
    dropped = verdicts(run_design(DropsALineInBilling))
    assert dropped["reconciliation"].status == "fail"
    mismatch = dropped["reconciliation"].evidence[0]
    assert mismatch["differ"] == ["totals", "billing lines"]
    assert mismatch["quoted"]["total"] == mismatch["erp_order"]["total"]
    assert mismatch["quoted"]["total"] != mismatch["billing"]["total"]
    assert dropped["effect_once"].status == "pass" and dropped["lineage"].status == "pass"
    p2p = verdicts(run_design("point-to-point"))
    assert p2p["retry_hygiene"].status == "fail"
    assert p2p["retry_hygiene"].figures["business_retries"] > 0


def test_a_batch_esb_misses_a_real_time_end_to_end_slo(run_design: RunDesign) -> None:
    scenario = scenario_with(duration="1d", **{"slo.end_to_end": {"p95": "30m"}})
    esb = verdicts(run_design("batch-esb", scenario=scenario))["end_to_end"]
    reference = verdicts(run_design("reference", scenario=scenario))["end_to_end"]
    assert esb.status == "fail" and "p95" in esb.summary
    assert reference.status == "pass"


def test_a_named_window_excuses_only_its_target_s_downtime() -> None:
    from harness.checkers.windows import ConsistencyWindow
    from harness.history import FaultRecord
    from harness.scenario import WindowSLO

    slo = WindowSLO(p50=300, p95=600, max=3600)
    approved_then_booked = [approval(0, 1), state(4000, "erp", "contract", 1), RunEnded(9000)]
    verdict = feed(ConsistencyWindow("cpq", "erp", slo), approved_then_booked)
    assert verdict.status == "fail" and verdict.checker == "cpq_to_erp"  # type: ignore[attr-defined]
    erp_down = [
        FaultRecord(100, "erp", "outage", "start"),
        FaultRecord(3900, "erp", "outage", "stop"),
    ]
    excused = [approved_then_booked[0], *erp_down, *approved_then_booked[1:]]
    verdict = feed(ConsistencyWindow("cpq", "erp", slo), excused)
    assert verdict.status == "pass" and verdict.figures["max_s"] == 200  # type: ignore[attr-defined]
    billing_down = [FaultRecord(100, "billing", "outage", "start"),
                    FaultRecord(3900, "billing", "outage", "stop")]  # fmt: skip
    unexcused = [approved_then_booked[0], *billing_down, *approved_then_booked[1:]]
    assert feed(ConsistencyWindow("cpq", "erp", slo), unexcused).status == "fail"  # type: ignore[attr-defined]
