"""Fault coverage: a verdict whose hazards never occurred says so, wherever verdicts are shown."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import simpy
from click.testing import CliRunner

from harness.checkers.hazards import Hazards
from harness.cli import main
from harness.effects import Call
from harness.history import (
    CallRecord,
    EventRecord,
    FaultRecord,
    StateRecord,
    WorkflowRecord,
    read_history,
)
from harness.runner import run
from harness.sim.network import Network
from simulators.base import IdempotencyRule
from simulators.latency import Fixed
from simulators.profiles import Profile
from simulators.support import Support
from tests.conftest import scenario_with
from tests.harness.test_faults import quiet


def test_hazards_are_counted_from_what_the_vendors_and_the_harness_recorded() -> None:
    hazards = Hazards()
    records = [
        EventRecord(0, "emitted", "E1", "quote.approved", "cpq", {"contract": "C1"}),
        EventRecord(1, "emitted", "E2", "quote.approved", "cpq", {"contract": "C1"}),
        EventRecord(2, "delivered", "E2", "quote.approved", "cpq", {"contract": "C1"}, 1),
        EventRecord(3, "delivered", "E1", "quote.approved", "cpq", {"contract": "C1"}, 1),
        EventRecord(4, "delivered", "E1", "quote.approved", "cpq", {"contract": "C1"}, 2),
        CallRecord(5, "info", 1, "erp", "create_sales_order", error_kind="ambiguous"),
        CallRecord(6, "fail", 2, "erp", "get_contract", error_kind="business"),  # a read
        CallRecord(7, "fail", 3, "support", "open_case", trace="world:customers",
                   error_kind="transient", retry_after=30.0),  # the world's, not a hazard
        WorkflowRecord(8, "Q1", "started", {}),
        WorkflowRecord(8, "Q2", "parked", {}, "TAX"),
        FaultRecord(9, "orchestrator", "orchestrator_crash", "start"),
    ]  # fmt: skip
    for position, record in enumerate(records):
        hazards.observe(position, record)
    counts = hazards.counts
    assert counts["reordered"] == 1 and counts["duplicate_delivered"] == 1
    assert counts["answer_lost"] == 1 and counts["refused"] == 0 and counts["retry_after"] == 0
    assert counts["crash_in_flight"] == 1 and counts["crash_set_aside"] == 1
    assert hazards.coverage("effect_once") == (
        True,
        "duplicate delivered ×1, answer lost ×1, crash in flight ×1",
    )
    assert hazards.coverage("retry_hygiene") == (True, "answer lost ×1")
    assert hazards.coverage("security") is None


def test_a_pass_nothing_tested_is_shown_as_not_exercised(tmp_path: Path) -> None:
    calm = quiet(faults=[], **{  # no crash, no duplicate, no lost answer: nothing for effect_once
        "systems.cpq.webhooks": {"duplicate_probability": 0, "loss_probability": 0},
        "systems.support.ghost_write_probability": 0,
    })  # fmt: skip
    scenario = tmp_path / "calm.yaml"
    scenario.write_text(calm.to_yaml(), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(
        main, ["gate", str(scenario), "--out", str(tmp_path / "runs"), "--junit", str(junit)]
    )
    assert result.exit_code in (0, 1), result.output
    run_dir = next((tmp_path / "runs" / "gate").iterdir()) / calm.name
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    effect_once = next(v for v in summary["checkers"] if v["checker"] == "effect_once")
    assert effect_once["status"] == "pass" and effect_once["exercised"] is False
    assert effect_once["coverage"] == (
        "no event was delivered twice, no answer was lost (ghost write or timeout), the "
        "orchestrator never crashed with work in flight, no write without an idempotency key "
        "was applied after its client timed out"
    )
    exercised = [v for v in summary["checkers"] if v.get("exercised")]
    assert exercised  # others were put to the test: a system was down, quotes were refused
    case = next(c for c in ET.parse(junit).getroot().iter("testcase")
                if c.get("name") == "effect_once")  # fmt: skip
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["exercised"] == "False"
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Not exercised: no event was delivered twice" in html
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "*Not exercised: no event was delivered twice" in markdown
    printed = CliRunner().invoke(main, ["analyze", str(run_dir)])
    assert "not exercised: no event was delivered twice" in printed.output


def _fold(*records: object) -> dict[str, int]:
    hazards = Hazards()
    for position, record in enumerate(records):
        if type(record) in hazards.wants:
            hazards.observe(position, record)  # type: ignore[arg-type]
    return hazards.counts


def _approval(t: float, contract: str, version: int, quote_type: str, total: int) -> StateRecord:
    keys = {"quote": f"Q-{contract}-{version}", "contract": contract, "contract_version": version}
    values = {"total": total, "currency": "EUR", "lines": [], "quote_type": quote_type}
    return StateRecord(t, "cpq", "quote", str(keys["quote"]), "updated", 2, keys, None, values)


def test_renewals_cancellations_and_downgrades_are_counted_from_cpqs_approvals() -> None:
    counts = _fold(
        _approval(0, "C1", 1, "new", 1000),
        _approval(1, "C1", 2, "amendment", 1500),  # an upgrade
        _approval(2, "C1", 3, "amendment", 1200),  # a downgrade: below version 2
        _approval(3, "C1", 4, "renewal", 1200),
        _approval(4, "C2", 1, "new", 900),
        _approval(5, "C2", 3, "amendment", 800),  # below version 1: a downgrade
        _approval(6, "C2", 2, "amendment", 100),  # approved late, older than version 3: not one
        _approval(7, "C2", 4, "cancellation", 0),  # a cancellation, not a downgrade
        StateRecord(8, "cpq", "quote", "Q-9", "created", 1, {"quote": "Q-9", "contract": "C3"}),
    )
    assert (counts["renewal"], counts["cancellation"], counts["downgrade"]) == (1, 1, 2)


def test_compensations_are_counted_from_what_erp_recorded() -> None:
    order = {"order": "SO-1", "quote": "Q-1", "contract": "C1"}
    counts = _fold(
        StateRecord(0, "erp", "sales_order", "SO-1", "created", 1, order),
        StateRecord(1, "erp", "contract", "C1", "created", 1, {"contract": "C1"}),
        StateRecord(2, "erp", "contract", "C1", "updated", 2, {"contract": "C1"}),
        StateRecord(3, "erp_cloud", "sales_order", "SO-1", "updated", 2, order),  # cancelled
        StateRecord(4, "erp", "contract", "C1", "reverted", 3, {"contract": "C1"}),
        StateRecord(5, "erp", "sales_order", "SO-2", "updated", 2, order, None,
                    {"status": "open"}),  # an update that says it is not a cancellation
        StateRecord(6, "billing", "subscription", "S-1", "reverted", 2, {"contract": "C1"}),
    )  # fmt: skip
    assert counts["compensation"] == 2


def test_dead_letters_are_counted_from_the_workflows_and_the_broker() -> None:
    counts = _fold(
        WorkflowRecord(0, "Q1", "started", {}),
        WorkflowRecord(1, "Q1", "dead_lettered", {}, "erp: timeout"),
        WorkflowRecord(2, "Q1", "resumed", {}),
        WorkflowRecord(3, "Q1", "completed", {}),
        WorkflowRecord(4, "Q2", "parked", {}, "TAX_CODE_MISSING"),  # parked is not dead-lettered
        EventRecord(5, "dead_lettered", "M1", "quote.approved", "broker", {}),
    )
    assert counts["dead_letter"] == 2


def test_a_write_applied_past_its_clients_timeout_is_counted() -> None:
    keys = {"contract": "C1", "contract_version": 1}
    counts = _fold(
        StateRecord(0, "support", "entitlement", "E1", "created", 1, keys),
        StateRecord(9, "support", "entitlement", "E1", "updated", 2, keys, "C1:v1", None, 4.0),
    )
    assert counts["queued_past_timeout"] == 1 and counts["compensation"] == 0
    hazards = Hazards()
    hazards.counts.update(counts)
    assert hazards.coverage("effect_once") == (True, "queued past timeout ×1")


def test_the_network_marks_a_keyless_write_its_client_gave_up_on() -> None:
    """A support write slower than the client's timeout is applied later: marked when support
    keeps no idempotency keys, unmarked when it does (a retry would be recognised)."""

    def late_marks(supported: bool) -> list[float | None]:
        env = simpy.Environment()
        records: list[object] = []
        support = Support(IdempotencyRule(supported=supported))
        profile = Profile(latency=Fixed(12.0), client_timeout_s=5.0)
        behaviour = profile.bind("support", random.Random)
        network = Network(env, {"support": support}, {"support": behaviour}, records.append)
        payload = {"contract_id": "C1", "contract_version": 1, "customer_id": "CU-1",
                   "level": "standard", "covered_units": 1}  # fmt: skip
        call = Call("support", "upsert_entitlement", payload, "C1:v1:support")
        env.process(network.call(call, "BILLING-EVT-1"))
        env.run()
        answers = [r for r in records if isinstance(r, CallRecord) and r.type != "invoke"]
        assert [(a.type, a.t) for a in answers] == [("info", 5.0)]
        return [r.past_timeout for r in records if isinstance(r, StateRecord)]

    assert late_marks(supported=False) == [7.0]
    assert late_marks(supported=True) == [None]


def test_the_seed_scenario_meets_the_business_hazards(tmp_path: Path) -> None:
    """A day of the seed scenario: renewals, cancellations and downgrades are approved, and
    the checkers that judge them say so."""
    scenario = scenario_with(duration="2d", **{"workload.renewals": "6/d",
                                               "workload.cancellations": "6/d"})  # fmt: skip
    result = run(scenario, "reference", 7, tmp_path)
    hazards = Hazards()
    for position, record in enumerate(read_history(result.run_dir / "history.jsonl")):
        if type(record) in hazards.wants:
            hazards.observe(position, record)
    counts = hazards.counts
    assert counts["renewal"] and counts["cancellation"] and counts["downgrade"]
    convergence = next(v for v in result.verdicts if v.checker == "convergence")
    assert convergence.exercised and "downgrade ×" in (convergence.coverage or "")
    assert result.passed
