"""Fault coverage: a verdict whose hazards never occurred says so, wherever verdicts are shown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from harness.checkers.hazards import Hazards
from harness.cli import main
from harness.history import CallRecord, EventRecord, FaultRecord, WorkflowRecord
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
        "orchestrator never crashed with work in flight"
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
