"""A business without CPQ or ERP: a web shop selling into billing (`web_shop`), and a CPQ that
sells straight into billing (no ERP). The reference carries what applies and passes; the
checkers judge what applies, say what they did not judge, and still catch broken designs."""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.designs.api import Context
from harness.designs.point_to_point import PointToPoint
from harness.designs.reference import ReferenceDesign
from harness.effects import Effect
from harness.faults import draw_swarm
from harness.live.serve import unenactable
from harness.runner import simulate
from harness.scenario import ScenarioError, load
from simulators.base import DomainEvent
from tests.broken_designs import GivesUpSilently, NaiveConsumer

NOT_JUDGED = ("lineage", "reconciliation")
NO_ERP = ["systems.erp=null", "faults=[]", "world.gaps={}", "duration=2d"]


def systems_called(history: Path) -> set[str]:
    with history.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return {r["system"] for r in records if r["kind"] == "call"}


def test_a_web_shop_with_only_billing_and_support_passes_on_the_reference(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    verdicts, summary = simulate(load("web_shop"), ReferenceDesign, seed=4, history_file=history)
    by_name = {v.checker: v for v in verdicts}
    assert not {v.checker: v.summary for v in verdicts if v.status != "pass"}
    for name in NOT_JUDGED:  # about CPQ's quotes and ERP's orders: said, not judged
        assert by_name[name].shown == "not judged", by_name[name]
        assert "this business has no CPQ or ERP" in by_name[name].summary
        assert by_name[name].exercised is None
    lost = by_name["nothing_lost"]
    assert lost.figures["approved"] > 300 and lost.figures["completed"] == lost.figures["approved"]
    assert "contract versions billing took" in lost.summary
    assert "billing's latest version" in by_name["convergence"].summary
    assert "from billing's change to support" in by_name["end_to_end"].summary
    assert systems_called(history) == {"billing", "support"}
    assert summary["workflows"]["completed"] > 300


@pytest.mark.parametrize(
    ("design", "broken"),
    [
        (GivesUpSilently, "nothing_lost"),  # support's outage drops entitlements for good
        (NaiveConsumer, "effect_once"),  # billing's duplicate webhooks, each acted on
        (PointToPoint, "monotonic_versions"),  # reordered webhooks, written in arrival order
    ],
)
def test_broken_designs_fail_the_web_shop(design: Any, broken: str) -> None:
    verdicts, _ = simulate(load("web_shop"), design, seed=4)
    status = {v.checker: v.status for v in verdicts}
    assert status[broken] == "fail", {v.checker: v.summary for v in verdicts}


def test_a_cpq_selling_into_billing_without_an_erp(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    scenario = load("subscription_amendment", NO_ERP)
    verdicts, _ = simulate(scenario, ReferenceDesign, seed=2, history_file=history)
    by_name = {v.checker: v for v in verdicts}
    assert not {v.checker: v.summary for v in verdicts if v.status != "pass"}
    assert by_name["cpq_to_erp"].shown == "not judged"
    assert "this business has no ERP" in by_name["lineage"].summary
    assert by_name["nothing_lost"].figures["ledger_documents"] == 0  # no ledger to post to
    assert systems_called(history) == {"cpq", "billing", "support"}
    verdicts, _ = simulate(scenario, NaiveConsumer, seed=2)
    assert {v.checker: v.status for v in verdicts}["effect_once"] == "fail"


class CallsTheERP:
    """Asks an ERP the business does not have, and notes the answer."""

    name = "calls-the-erp"

    @property
    def subscriptions(self) -> dict[str, Any]:
        return {"orchestrator.started": self.on_start}

    def on_start(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, None]:
        reply = yield ctx.call("erp", "validate_order", {})
        assert reply.error is not None
        answer = {"code": reply.error.code, "has": sorted(ctx.systems)}
        yield ctx.note("test", "erp", "answered", answer)


def test_a_call_to_a_system_the_business_lacks_is_a_business_error(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    scenario = load("web_shop", ["duration=1h", "faults=[]"])
    simulate(scenario, CallsTheERP, seed=1, history_file=history)
    notes = [json.loads(line) for line in history.read_text().splitlines() if '"answered"' in line]
    assert [n["details"] for n in notes] == [
        {"code": "NO_SUCH_SYSTEM", "has": ["billing", "support"]}
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["faults=[{kind: outage, target: cpq, start: 1h, duration: 1h}]"],
            "targets cpq, which this business does not have (systems.cpq is null)",
        ),
        (["systems.erp={preset: netsuite-like}"], "systems.cpq is null but systems.erp is not"),
        (["world.gaps={unpriced_skus: [HEARTH-T1]}"], None),  # billing's gap: allowed
    ],
)
def test_what_a_business_lacks_cannot_be_used(overrides: list[str], message: str | None) -> None:
    if message is None:
        load("web_shop", overrides)
        return
    with pytest.raises(ScenarioError) as caught:
        load("web_shop", overrides)
    assert message in str(caught.value)


def test_erp_master_data_needs_an_erp() -> None:
    with pytest.raises(ScenarioError) as caught:
        load("subscription_amendment", ["systems.erp=null", "faults=[]"])
    assert "world.gaps.missing_tax_codes describes ERP's master data" in str(caught.value)


def test_swarm_faults_target_only_the_systems_there_are() -> None:
    scenario = load("web_shop")
    targets = {
        fault.get("target") or fault["between"][1]
        for seed in range(1, 60)
        for fault in draw_swarm(scenario, seed)
    }
    assert targets and targets <= {"billing", "support", "orchestrator"}, targets


def test_live_mode_says_it_serves_all_four_systems() -> None:
    refused = unenactable(load("web_shop"), 0, supervised=True)
    assert refused is not None and "has no cpq and erp" in refused and "syncline run" in refused


def test_a_comparison_says_what_it_did_not_judge(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "compare", "web_shop", "--designs", "point-to-point,reference", "--seed", "4",
        "--out", str(tmp_path), "--no-reports", "--set", "duration=1d",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(r"lineage +n/a +n/a", result.output)
    directory = tmp_path / "latest-compare"
    assert "| `reconciliation` | ➖ not judged | ➖ not judged |" in (
        directory / "comparison.md"
    ).read_text(encoding="utf-8")
    assert (directory / "reference" / "summary.json").is_file()
    assert not (directory / "reference" / "report.html").exists()  # --no-reports
