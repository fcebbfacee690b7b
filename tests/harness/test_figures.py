"""Figures that say what they mean: a threshold-less checker reports, look-ups are not
refusals, and a workflow a design never closed is not stuck when every system holds it."""

from __future__ import annotations

from harness.designs.choreography import Choreography
from harness.designs.reference import ReferenceDesign
from harness.runner import simulate
from tests.conftest import scenario_with


def test_a_checker_without_thresholds_reports_and_does_not_judge() -> None:
    unset = scenario_with(duration="1d", **{"slo.end_to_end": {}})
    verdicts, summary = simulate(unset, ReferenceDesign, seed=2)
    end_to_end = next(v for v in verdicts if v.checker == "end_to_end")
    assert not end_to_end.judged and end_to_end.shown == "reported"
    assert end_to_end.summary.startswith("reported, not judged (no end_to_end SLO): p50 ")
    stored = next(c for c in summary["checkers"] if c["checker"] == "end_to_end")
    assert stored["judged"] is False
    strict = scenario_with(duration="1d", **{"slo.end_to_end": {"p95": "1s"}})
    verdicts, _ = simulate(strict, ReferenceDesign, seed=2)
    judged = next(v for v in verdicts if v.checker == "end_to_end")
    assert judged.judged and judged.status == "fail" and judged.shown == "fail"


def test_look_ups_that_find_nothing_are_not_counted_as_refusals() -> None:
    scenario = scenario_with(duration="1d", **{"world.gaps.missing_tax_codes": []})
    _, summary = simulate(scenario, ReferenceDesign, seed=2)
    billing = summary["systems"]["billing"]
    # The reference looks a subscription up before it creates one: billing answers "not found".
    assert billing["lookups_not_found"] > 50
    assert billing["errors"]["business"] == 0 and "business" not in billing["rejections"]


def test_workflows_the_design_never_closed_are_stuck_only_if_the_systems_lack_them() -> None:
    scenario = scenario_with(duration="2d")
    verdicts, _ = simulate(scenario, Choreography, seed=7)
    figures = next(v for v in verdicts if v.checker == "nothing_lost").figures
    # Choreography has no conductor to mark its workflows completed: each one ends at
    # billing_updated. Only those whose quotes no system completed count as stuck.
    assert figures["completed"] > 500
    assert figures["stuck_workflows"] <= figures["approved"] - figures["completed"]
