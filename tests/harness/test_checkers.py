"""Each checker on small hand-made histories: pass, fail and unknown, with evidence."""

from __future__ import annotations

from harness.checkers import worst
from harness.checkers.base import percentile
from harness.checkers.consistency import InvoicedBeforeEntitled
from harness.checkers.effect_once import EffectOnce
from harness.checkers.nothing_lost import NothingLost
from harness.checkers.windows import BillingToSupportWindow
from harness.history import (
    EventRecord,
    PolicyRecord,
    Record,
    RunEnded,
    StateRecord,
    WorkflowRecord,
)
from harness.scenario import InvoicedBeforeEntitledSLO, NothingLostSLO, WindowSLO

WINDOW_SLO = WindowSLO(p50=60, p95=600, max=3600)


def feed(checker: object, records: list[Record]) -> object:
    for position, record in enumerate(records):
        checker.observe(position, record)  # type: ignore[attr-defined]
    return checker.verdict()  # type: ignore[attr-defined]


def state(
    t: float,
    system: str,
    entity: str,
    version: int,
    effect: str | None = None,
    contract: str = "CT-1",
    entity_id: str = "X-1",
    change: str = "created",
) -> StateRecord:
    keys = {"contract": contract, "contract_version": version, "quote": f"Q-{contract}-{version}"}
    return StateRecord(t, system, entity, entity_id, change, 1, keys, effect)


def approval(t: float, version: int, contract: str = "CT-1") -> EventRecord:
    keys = {"quote": f"Q-{contract}-{version}", "contract": contract, "contract_version": version}
    return EventRecord(t, "emitted", f"E-{contract}-{version}", "quote.approved", "cpq", keys)


def test_worst_and_percentile() -> None:
    assert worst(["pass", "unknown", "pass"]) == "unknown"
    assert worst(["unknown", "fail"]) == "fail"
    assert worst([]) == "pass"
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0


def test_effect_once() -> None:
    once = [
        state(0, "billing", "invoice", 1, "CT-1:v1"),
        state(1, "billing", "invoice", 2, "CT-1:v2"),
    ]
    assert feed(EffectOnce(), once).status == "pass"  # type: ignore[attr-defined]
    twice = [*once, state(2, "billing", "invoice", 1, "CT-1:v1", entity_id="X-2")]
    verdict = feed(EffectOnce(), twice)
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    assert verdict.evidence == [  # type: ignore[attr-defined]
        {
            "effect": "billing.invoice",
            "business_key": "CT-1:v1",
            "ids": ["X-1", "X-2"],
            "positions": [0, 2],
        }
    ]
    assert feed(EffectOnce(), [state(0, "erp", "contract", 1)]).status == "unknown"  # type: ignore[attr-defined]


def test_effect_once_remembers_old_effects_by_digest_and_still_catches_their_duplicates() -> None:
    week = 7 * 86400
    history = [
        state(0, "billing", "invoice", 1, "CT-1:v1"),
        *(state(t, "billing", "invoice", 2 + t, f"CT-1:v{2 + t}") for t in range(1, 4)),
        state(week + 10, "billing", "invoice", 9, "CT-1:v9"),  # CT-1:v1 is past the window
        state(week + 20, "billing", "invoice", 1, "CT-1:v1", entity_id="X-7"),
        state(week + 30, "billing", "invoice", 9, "CT-1:v9", entity_id="X-8"),
    ]
    checker = EffectOnce()
    verdict = feed(checker, history)
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    assert verdict.figures["effects"] == 5  # type: ignore[attr-defined]
    assert verdict.figures["duplicates"] == 2  # type: ignore[attr-defined]
    old, recent = verdict.evidence  # type: ignore[attr-defined]
    assert old == {"effect": "billing.invoice", "business_key": "CT-1:v1", "ids": ["X-7"],
                   "positions": [5], "first_write": "more than 7d earlier"}  # fmt: skip
    assert recent["ids"] == ["X-1", "X-8"] and recent["positions"] == [4, 6]
    assert len(checker.older) == 4  # only digests are left of the four week-old effects


def test_billing_to_support_window() -> None:
    fast = [
        state(0, "billing", "subscription", 1),
        state(30, "support", "entitlement", 1),
        RunEnded(10_000),
    ]
    verdict = feed(BillingToSupportWindow(WINDOW_SLO), fast)
    assert verdict.status == "pass" and verdict.figures["max_s"] == 30  # type: ignore[attr-defined]
    slow = [
        state(0, "billing", "subscription", 1),
        state(700, "support", "entitlement", 1),
        RunEnded(10_000),
    ]
    verdict = feed(BillingToSupportWindow(WINDOW_SLO), slow)
    assert verdict.status == "fail" and "p95 11.7m > 10m" in verdict.summary  # type: ignore[attr-defined]
    never = [state(0, "billing", "subscription", 1), RunEnded(10_000)]
    verdict = feed(BillingToSupportWindow(WINDOW_SLO), never)
    assert verdict.status == "fail" and verdict.figures["missing"] == 1  # type: ignore[attr-defined]
    too_recent = [state(9_000, "billing", "subscription", 1), RunEnded(10_000)]
    assert feed(BillingToSupportWindow(WINDOW_SLO), too_recent).status == "unknown"  # type: ignore[attr-defined]
    # a newer entitlement covers an older billing version; support first means a zero window
    covered = [state(0, "billing", "subscription", 1), state(5, "support", "entitlement", 2),
               state(6, "billing", "subscription", 2), RunEnded(100)]  # fmt: skip
    verdict = feed(BillingToSupportWindow(WINDOW_SLO), covered)
    assert verdict.figures["measured"] == 2 and verdict.figures["max_s"] == 5  # type: ignore[attr-defined]


def test_invoiced_before_entitled() -> None:
    slo = InvoicedBeforeEntitledSLO(max_share=0.0, invoice_delivery=600)
    timely = [
        state(0, "billing", "invoice", 1),
        state(599, "support", "entitlement", 1),
        RunEnded(5000),
    ]
    assert feed(InvoicedBeforeEntitled(slo), timely).status == "pass"  # type: ignore[attr-defined]
    late = [
        state(0, "billing", "invoice", 1),
        state(601, "support", "entitlement", 1),
        RunEnded(5000),
    ]
    verdict = feed(InvoicedBeforeEntitled(slo), late)
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    assert verdict.evidence[0]["entitlement_lag_s"] == 601  # type: ignore[attr-defined]
    tolerant = InvoicedBeforeEntitledSLO(max_share=0.5, invoice_delivery=600)
    assert feed(InvoicedBeforeEntitled(tolerant), [*late[:2], *timely]).status == "pass"  # type: ignore[attr-defined]
    never = [state(0, "billing", "invoice", 1), RunEnded(5000)]
    assert feed(InvoicedBeforeEntitled(slo), never).figures["invoiced_before_entitled"] == 1  # type: ignore[attr-defined]
    assert feed(InvoicedBeforeEntitled(slo), [RunEnded(5)]).status == "unknown"  # type: ignore[attr-defined]


def settled(t: float, version: int, contract: str = "CT-1") -> list[Record]:
    holders = (("erp", "contract"), ("billing", "subscription"), ("support", "entitlement"))
    return [state(t, system, entity, version, contract=contract) for system, entity in holders]


def test_nothing_lost() -> None:
    slo = NothingLostSLO(deadline=86_400)
    done = [approval(0, 1), *settled(100, 1), RunEnded(200_000)]
    assert feed(NothingLost(slo), done).status == "pass"  # type: ignore[attr-defined]
    # v1 is accounted for by v2, which carries the whole contract
    superseded = [approval(0, 1), approval(5, 2), *settled(100, 2), RunEnded(200_000)]
    assert feed(NothingLost(slo), superseded).figures["completed"] == 2  # type: ignore[attr-defined]
    parked = WorkflowRecord(
        50, "Q-CT-1-1", "parked", {"quote": "Q-CT-1-1", "contract": "CT-1"}, "TAX"
    )
    held = PolicyRecord(
        200_000, "exceptions", "Q-CT-1-1", "held_at_end", {"status": "parked", "quote": "Q-CT-1-1"}
    )
    told = PolicyRecord(50, "exceptions", "Q-CT-1-1", "parked", {"code": "TAX"})
    verdict = feed(NothingLost(slo), [approval(0, 1), parked, told, held, RunEnded(200_000)])
    assert verdict.status == "pass" and verdict.figures["parked"] == 1  # type: ignore[attr-defined]
    # held where operators look, but they were never told of it: nobody will act on it
    untold = feed(NothingLost(slo), [approval(0, 1), parked, held, RunEnded(200_000)])
    assert untold.status == "fail" and "never told" in untold.evidence[0]["why"]  # type: ignore[attr-defined]
    # operators replayed it a day and more before the end; the design still holds it, silent
    acted = PolicyRecord(60, "operations", "Q-CT-1-1", "operator.replay")
    ignored = feed(NothingLost(slo), [approval(0, 1), parked, told, acted, held, RunEnded(200_000)])
    assert ignored.status == "fail" and "operators acted" in ignored.evidence[0]["why"]  # type: ignore[attr-defined]
    # said parked, but held nowhere operators look: lost, even when v2 carried the contract
    forgotten = feed(NothingLost(slo), [approval(0, 1), parked, RunEnded(200_000)])
    assert forgotten.status == "fail" and "no exception is held" in forgotten.evidence[0]["why"]  # type: ignore[attr-defined]
    carried = [approval(0, 1), parked, approval(60, 2), *settled(100, 2), RunEnded(200_000)]
    verdict = feed(NothingLost(slo), carried)
    assert verdict.figures["lost"] == 1 and verdict.figures["completed"] == 1  # type: ignore[attr-defined]
    silent = WorkflowRecord(50, "Q-CT-1-1", "parked", {"quote": "Q-CT-1-1", "contract": "CT-1"}, "")
    verdict = feed(NothingLost(slo), [approval(0, 1), silent, RunEnded(200_000)])
    assert verdict.status == "fail" and verdict.figures["lost"] == 1  # type: ignore[attr-defined]
    half = [approval(0, 1), state(10, "erp", "contract", 1), RunEnded(200_000)]
    verdict = feed(NothingLost(slo), half)
    assert verdict.evidence[0]["systems_show"] == {"erp": 1, "billing": 0, "support": 0}  # type: ignore[attr-defined]
    late = [approval(0, 1), *settled(90_000, 1), RunEnded(200_000)]
    assert feed(NothingLost(slo), late).figures["late"] == 1  # type: ignore[attr-defined]
    pending = [approval(150_000, 1), RunEnded(200_000)]
    assert feed(NothingLost(slo), pending).status == "unknown"  # type: ignore[attr-defined]


def test_support_downtime_is_excused_and_reported_but_a_crash_is_not() -> None:
    from harness.history import FaultRecord

    down = [
        FaultRecord(100, "support", "read_only", "start"),
        FaultRecord(4000, "support", "read_only", "stop"),
    ]
    billed, entitled = (
        state(80, "billing", "subscription", 1),
        state(4030, "support", "entitlement", 1),
    )
    verdict = feed(BillingToSupportWindow(WINDOW_SLO), [billed, *down, entitled, RunEnded(10_000)])
    assert verdict.status == "pass"  # type: ignore[attr-defined]
    assert verdict.figures["max_s"] == 50 and verdict.figures["raw_max_s"] == 3950  # type: ignore[attr-defined]
    assert verdict.figures["support_down_s"] == 3900  # type: ignore[attr-defined]
    assert "raw max 1.1h, support down in between" in verdict.summary  # type: ignore[attr-defined]
    crash = [FaultRecord(100, "orchestrator", "orchestrator_crash", "start"),
             FaultRecord(4000, "orchestrator", "orchestrator_crash", "stop")]  # fmt: skip
    verdict = feed(BillingToSupportWindow(WINDOW_SLO), [billed, *crash, entitled, RunEnded(10_000)])
    assert verdict.status == "fail"  # type: ignore[attr-defined]
    slo = InvoicedBeforeEntitledSLO(max_share=0.0, invoice_delivery=600)
    invoice = state(80, "billing", "invoice", 1)
    assert (
        feed(InvoicedBeforeEntitled(slo), [invoice, *down, entitled, RunEnded(9000)]).status
        == "pass"
    )  # type: ignore[attr-defined]
    assert (
        feed(InvoicedBeforeEntitled(slo), [invoice, *crash, entitled, RunEnded(9000)]).status
        == "fail"
    )  # type: ignore[attr-defined]


def test_cases_on_a_stale_entitlement() -> None:
    from harness.checkers.consistency import CasesOnStaleEntitlement
    from harness.history import FaultRecord
    from harness.scenario.slos import CasesSLO

    def case(t: float, number: int) -> StateRecord:
        return StateRecord(t, "support", "case", f"CS-{number}", "created", 1, {"customer": "C-1"})

    opened = StateRecord(
        0, "cpq", "contract", "CT-1", "created", 1, {"contract": "CT-1", "customer": "C-1"}
    )
    history: list[Record] = [
        opened,
        state(10, "billing", "subscription", 2),
        case(20, 1),  # within the grace
        case(400, 2),  # billing ahead for 390 s: stale
        state(430, "support", "entitlement", 2),
        case(440, 3),  # caught up
        state(450, "billing", "subscription", 3),
        FaultRecord(455, "support", "outage", "start"),
        case(900, 4),  # stale, but support is down: excused
    ]
    verdict = feed(CasesOnStaleEntitlement(CasesSLO(max_share=0.01)), history)
    assert verdict.figures == {  # type: ignore[attr-defined]
        "cases": 4, "on_stale_entitlement": 1, "share": 0.25, "excused_support_down": 1,
    }  # fmt: skip
    assert verdict.status == "fail" and verdict.evidence[0]["contracts_behind"] == ["CT-1"]  # type: ignore[attr-defined]
    assert feed(CasesOnStaleEntitlement(CasesSLO(max_share=0.5)), history).status == "pass"  # type: ignore[attr-defined]
    assert feed(CasesOnStaleEntitlement(CasesSLO()), [opened]).status == "unknown"  # type: ignore[attr-defined]


def test_a_held_payment_posting_is_not_taken_for_its_invoices() -> None:
    """Both postings parked on a tax code, both held: the payment's keys name its invoice too."""
    slo = NothingLostSLO(deadline=3_600)
    invoice = {"contract": "CT-1", "invoice": "INV-1"}
    payment = {**invoice, "payment": "P-1"}
    records: list[Record] = [
        EventRecord(0, "emitted", "E1", "invoice.posted", "billing", invoice),
        EventRecord(1, "emitted", "E2", "payment.posted", "billing", payment),
        PolicyRecord(5, "exceptions", "post:E2", "parked", {"code": "TAX_CODE_MISSING"}),
        PolicyRecord(5, "exceptions", "post:E1", "parked", {"code": "TAX_CODE_MISSING"}),
        PolicyRecord(
            9_000, "exceptions", "post:E2", "held_at_end", {"status": "parked", **payment}
        ),
        PolicyRecord(
            9_000, "exceptions", "post:E1", "held_at_end", {"status": "parked", **invoice}
        ),
        RunEnded(9_000),
    ]
    verdict = feed(NothingLost(slo), records)
    assert verdict.figures["ledger_parked"] == 2 and verdict.figures["ledger_lost"] == 0  # type: ignore[attr-defined]
