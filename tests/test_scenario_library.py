"""The shipped scenario library: each file tells its story, and the reference passes them all
through `syncline gate` (the CI resilience gate over the whole library)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.gate import GateResult, collect, gate
from harness.scenario import load, shipped_scenarios


@pytest.fixture(scope="module")
def library_gate(tmp_path_factory: pytest.TempPathFactory) -> GateResult:
    # verdicts and summaries are what these tests read: no per-run HTML reports or charts
    out = tmp_path_factory.mktemp("gate")
    return gate(collect(["shipped"]), seed=0, out=out, workers=2, reports=False)


def summary(outcome: GateResult, name: str) -> dict[str, Any]:
    run = next(result for scenario, result in outcome.runs if scenario.name == name)
    data: dict[str, Any] = json.loads((run.run_dir / "summary.json").read_text())
    return data


def figures(data: dict[str, Any], checker: str) -> dict[str, Any]:
    return next(v["figures"] for v in data["checkers"] if v["checker"] == checker)


def test_the_library_has_at_least_ten_described_scenarios() -> None:
    names = shipped_scenarios()
    assert len(names) >= 10
    for name in names:
        scenario = load(name)
        assert scenario.name == name and scenario.title and len(scenario.description) > 100


def test_the_reference_passes_the_whole_library(library_gate: GateResult) -> None:
    failing = {
        s.name: [v.checker for v in r.verdicts if v.status != "pass"]
        for s, r in library_gate.runs
        if not r.passed
    }
    assert library_gate.status == "pass", failing
    assert len(library_gate.runs) == len(shipped_scenarios())


def test_each_scenario_exercises_its_story(library_gate: GateResult) -> None:
    def rejections(name: str, system: str) -> dict[str, int]:
        found: dict[str, int] = summary(library_gate, name)["systems"][system]["rejections"]
        return found

    assert rejections("quarter_end_renewal_wave", "erp").get("rate_limit", 0) > 100
    assert rejections("erp_month_end_close", "erp").get("read_only", 0) > 100
    assert rejections("entitlement_checks_during_billing_outage", "billing")["outage"] > 10
    assert rejections("billing_activates_before_erp", "erp").get("brownout", 0) > 10
    for name in ("missing_tax_code", "acquisition_onboarding"):
        lost = figures(summary(library_gate, name), "nothing_lost")
        worked = figures(summary(library_gate, name), "human_time")["worked"]
        assert worked > 10 and lost["lost"] == 0, name  # parked, then resumed by operations
    storm = summary(library_gate, "duplicate_webhook_storm")["webhooks"]["billing"]
    assert storm["duplicates"] > 100
    upgraded = summary(library_gate, "vendor_schema_upgrade")["faults"]
    assert {f["kind"] for f in upgraded} >= {"vendor_upgrade"}
    reversals = figures(summary(library_gate, "invoice_reversal_credit_memo"), "nothing_lost")
    assert reversals["ledger_documents"] > reversals["approved"]  # invoices, payments, memos
    migration = summary(library_gate, "cloud_erp_migration")["systems"]
    assert migration["erp_cloud"]["ok"] > 100 and migration["erp"]["ok"] > 100  # both serve


def test_a_design_that_does_not_route_fails_the_migration(tmp_path: Path) -> None:
    from harness.runner import run

    result = run(load("cloud_erp_migration"), "point-to-point", 0, tmp_path)
    lost = next(v for v in result.verdicts if v.checker == "nothing_lost")
    assert lost.status == "fail" and lost.figures["lost"] > 100  # cloud customers, legacy ERP


def test_the_gate_writes_junit_for_the_library(library_gate: GateResult, tmp_path: Path) -> None:
    from reports.ci import write_junit

    runs = [(s.name, s.design, r) for s, r in library_gate.runs]
    junit = write_junit(runs, tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert junit.count("<testsuite ") == len(shipped_scenarios())
    assert "<failure" not in junit
