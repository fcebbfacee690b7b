"""What unseen runs found in the reference, each fixed and held here: a keyless ERP with lost
answers, CPQ losing change events, and the world's traffic drawing on streams of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.designs.reference import ReferenceDesign
from harness.runner import run
from simulators.presets import PRESETS
from simulators.profiles import Behaviour
from tests.broken_designs import TrustsKeys
from tests.conftest import scenario_with
from tests.harness.test_faults import fault, quiet


def verdicts(result: Any) -> dict[str, Any]:
    return {v.checker: v for v in result.verdicts}


def test_an_erp_that_ignores_keys_gets_no_duplicates_from_the_reference(tmp_path: Path) -> None:
    """SAP-like ERP (no idempotency keys) losing 5 % of its answers: read back, then re-send."""
    lossy = fault("ghost_writes", target="erp", probability=0.05, start="1h", duration="10h")
    scenario = quiet(faults=[lossy], **{"systems.erp.preset": "sap-like"})
    reference = verdicts(run(scenario, "reference", 7, tmp_path / "reference"))
    assert reference["effect_once"].status == "pass"
    assert reference["effect_once"].exercised  # answers were lost
    trusting = verdicts(run(scenario, TrustsKeys, 7, tmp_path / "trusting"))
    duplicated = trusting["effect_once"].figures["duplicates_by_effect"]
    assert trusting["effect_once"].status == "fail"
    assert set(duplicated) & {"erp.sales_order", "erp.journal_entry"}, duplicated


def test_cpq_change_events_lost_in_transit_are_reconciled(tmp_path: Path) -> None:
    scenario = quiet(**{"systems.cpq.webhooks": {"loss_probability": 0.05}})
    reference = run(scenario, "reference", 7, tmp_path / "reference")
    history = (reference.run_dir / "history.jsonl").read_text(encoding="utf-8")
    assert '"policy":"reconciliation"' in history  # some approvals came back this way
    judged = verdicts(reference)
    assert judged["convergence"].status == "pass" and judged["nothing_lost"].status == "pass"
    no_reconciliation = run(
        scenario, lambda: ReferenceDesign(reconcile_every=None), 7, tmp_path / "trusting"
    )
    assert verdicts(no_reconciliation)["convergence"].status == "fail"


def test_callers_of_a_system_draw_from_streams_of_their_own() -> None:
    """The world's calls to a vendor do not move the integration's draws (no limit is hit)."""
    from harness.scenario.systems import SystemSpec
    from harness.seeds import streams

    profile = SystemSpec.model_validate({"preset": "zuora-like"}).profile()
    assert "zuora-like" in PRESETS

    def integration_latencies(world_calls: int) -> list[float]:
        behaviour = Behaviour(profile, "billing", streams(3))
        world = behaviour.draws_for("world")
        found = []
        for step in range(20):
            for _ in range(world_calls):
                behaviour.decide(step * 10.0, True, world)
            found.append(behaviour.decide(step * 10.0 + 5).delay)
        return found

    assert integration_latencies(0) == integration_latencies(3)


class ForgetsTheGap(ReferenceDesign):
    """Replays CPQ's change stream but never queries CPQ for what the stream no longer holds."""

    name = "forgets-the-gap"

    def _reconcile_gap(self, ctx: Any, until: float) -> Any:
        yield from ()
        return True


def test_approvals_the_stream_no_longer_holds_are_found_by_querying_cpq(tmp_path: Path) -> None:
    """Down for longer than CPQ keeps its change events (72 h), with CPQ losing 30 % of its
    webhooks: the reference asks CPQ for the approvals it missed and converges."""
    crash = {"kind": "orchestrator_crash", "target": "orchestrator", "start": "2h",
             "duration": "76h"}  # fmt: skip
    scenario = scenario_with(
        duration="4d", drain="1d", faults=[crash],
        **{"systems.cpq.webhooks": {"loss_probability": 0.3}},
    )  # fmt: skip
    reference = run(scenario, "reference", 7, tmp_path / "reference")
    history = (reference.run_dir / "history.jsonl").read_text(encoding="utf-8")
    assert history.count('"event":"recovered_by_query"') > 10
    assert verdicts(reference)["convergence"].status == "pass"
    forgetful = run(scenario, ForgetsTheGap, 7, tmp_path / "forgetful")
    assert verdicts(forgetful)["convergence"].status == "fail"
