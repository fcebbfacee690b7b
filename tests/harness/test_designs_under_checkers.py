"""Each checker is proven by a design that breaks its invariant, and the reference passing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.broken_designs import (
    Crashes,
    DropsItsOutbox,
    GivesUpSilently,
    NaiveConsumer,
    SlowEntitlement,
)
from tests.conftest import RunDesign


def verdicts(result: Any) -> dict[str, str]:
    return {v.checker: v.status for v in result.verdicts}


@pytest.mark.parametrize("seed", [7, 11])
def test_the_reference_passes_every_checker(run_design: RunDesign, seed: int) -> None:
    result = run_design("reference", seed)
    assert verdicts(result) == dict.fromkeys(verdicts(result), "pass")
    assert result.exit_code == 0
    workflows = result.summary["workflows"]
    human_time = next(v for v in result.verdicts if v.checker == "human_time")
    parked = human_time.figures["worked"]  # the BR tax code gap, parked then fixed by ops
    assert parked > 0 and workflows["completed"] > 10 * parked
    assert "parked" not in workflows  # every parked quote was resumed and completed
    assert result.summary["systems"]["erp"]["errors"]["transient"] > 0  # faults really happened


def test_a_naive_consumer_of_duplicate_webhooks_breaks_effect_once(run_design: RunDesign) -> None:
    result = run_design(NaiveConsumer)
    effect_once = next(v for v in result.verdicts if v.checker == "effect_once")
    assert effect_once.status == "fail" and result.exit_code == 1
    assert effect_once.figures["duplicates_by_effect"]["support.entitlement"] > 0
    assert effect_once.evidence and len(effect_once.evidence[0]["ids"]) >= 2


def test_a_slow_entitlement_breaks_both_consistency_checks(run_design: RunDesign) -> None:
    result = run_design(SlowEntitlement)
    assert verdicts(result)["billing_to_support"] == "fail"
    assert verdicts(result)["invoiced_before_entitled"] == "fail"
    assert verdicts(result)["cases_on_stale_entitlement"] == "fail"
    assert verdicts(result)["effect_once"] == "pass"


def test_dropping_work_on_transient_errors_breaks_nothing_lost(run_design: RunDesign) -> None:
    result = run_design(GivesUpSilently)
    nothing_lost = next(v for v in result.verdicts if v.checker == "nothing_lost")
    assert nothing_lost.status == "fail" and nothing_lost.figures["lost"] > 0
    assert {"quote", "contract", "systems_show"} <= set(nothing_lost.evidence[0])
    assert nothing_lost.figures["stuck_workflows"] > 0  # it dropped them mid-way
    assert any("last_status" in item for item in nothing_lost.evidence)


def test_an_outbox_never_relayed_breaks_nothing_lost(run_design: RunDesign) -> None:
    result = run_design(DropsItsOutbox)
    nothing_lost = next(v for v in result.verdicts if v.checker == "nothing_lost")
    assert nothing_lost.status == "fail"
    assert nothing_lost.figures["messages_staged"] > 0
    assert nothing_lost.figures["messages_published"] == 0
    assert nothing_lost.evidence[0]["message"].startswith("contract.synced:")
    assert verdicts(result)["partial_updates"] == "pass"  # only the announcement is missing


def test_a_crashing_plugin_is_recorded_and_judged_not_fatal(run_design: RunDesign) -> None:
    result = run_design(Crashes)
    assert result.summary["workflows"]["crashed"] > 0
    assert verdicts(result)["nothing_lost"] == "fail"


def test_dropping_work_after_erp_wrote_breaks_partial_updates(tmp_path: Any) -> None:
    """Billing is down as the workload ends; a design that gives up leaves ERP ahead of it."""
    from harness.runner import run
    from tests.harness.test_faults import fault, quiet

    scenario = quiet(faults=[fault("outage", target="billing", start="10h", duration="3h")])
    broken = run(scenario, GivesUpSilently, 7, tmp_path / "broken")
    verdict = next(v for v in broken.verdicts if v.checker == "partial_updates")
    assert verdict.status == "fail" and verdict.figures["partial_at_end"] > 0
    item = verdict.evidence[0]
    assert item["erp_billing_support"][0] > item["erp_billing_support"][1]
    reference = run(scenario, "reference", 7, tmp_path / "reference")
    assert {v.checker: v.status for v in reference.verdicts}["partial_updates"] == "pass"
