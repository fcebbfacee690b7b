"""Reports read the run directory and show its verdicts; every linked chart exists."""

from __future__ import annotations

import re

from reports import write_reports
from tests.broken_designs import NaiveConsumer
from tests.conftest import RunDesign


def test_report_shows_every_verdict_fault_and_chart(run_design: RunDesign) -> None:
    result = run_design(seed=7)
    written = write_reports(result.run_dir)
    report = (result.run_dir / "report.md").read_text(encoding="utf-8")
    for verdict in result.verdicts:
        assert f"| `{verdict.checker}` | ✅ pass | {verdict.summary} |" in report
    assert report.count("| erp | maintenance | Mon 02 Mar 20:00 | 4h |") == 1
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(links) == 6 and all((result.run_dir / link).is_file() for link in links)
    for chart in written[2:]:  # report.html, report.md, then the charts
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    assert "## Evidence" not in report


def test_a_failed_checker_shows_its_evidence(run_design: RunDesign) -> None:
    result = run_design(NaiveConsumer, seed=7)
    write_reports(result.run_dir)
    report = (result.run_dir / "report.md").read_text(encoding="utf-8")
    assert "**Result: ❌ fail**" in report
    assert "### `effect_once`" in report and "business_key=" in report
