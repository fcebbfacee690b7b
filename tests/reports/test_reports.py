"""Reports read the run directory and show its verdicts; every linked chart exists."""

from __future__ import annotations

import re

from tests.markdown_parse import parse_markdown
from tests.reports.conftest import Reported


def test_report_shows_every_verdict_fault_and_chart(passing_report: Reported) -> None:
    result, written = passing_report.result, passing_report.written
    report = (result.run_dir / "report.md").read_text(encoding="utf-8")
    for verdict in result.verdicts:
        assert f"| `{verdict.checker}` | ✅ pass | {verdict.summary} |" in report
    assert report.count("| erp | maintenance | Mon 02 Mar 20:00 | 4h |") == 1
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(links) == 6 and all((result.run_dir / link).is_file() for link in links)
    for chart in written[2:]:  # report.html, report.md, then the charts
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    assert "## Evidence" not in report


def test_a_failed_checker_shows_its_evidence(failing_report: Reported) -> None:
    result = failing_report.result
    report = (result.run_dir / "report.md").read_text(encoding="utf-8")
    assert "**Result: ❌ fail**" in report
    assert "### `effect_once`" in report and "business key CT-" in report
    evidence = report.split("### `effect_once`")[1].split("###")[0]
    assert "— `syncline trace " in evidence  # every item says how to follow it
    assert "position" not in evidence  # history positions stay in summary.json


def test_the_markdown_reports_parse_with_whole_tables(failing_report: Reported) -> None:
    result = failing_report.result
    parsed = parse_markdown((result.run_dir / "report.md").read_text(encoding="utf-8"))
    verdicts = parsed.tables[0]
    assert verdicts[0] == ["checker", "verdict", "result"]
    assert [row[0] for row in verdicts[1:]] == [v.checker for v in result.verdicts]
    assert "Evidence" in parsed.headings and "Charts" in parsed.headings
    assert all((result.run_dir / image).is_file() for image in parsed.images)
    assert len(parsed.images) == 6


def test_the_table_check_catches_a_row_with_a_stray_pipe() -> None:
    import pytest

    good = "| a | b |\n|---|---|\n| 1 | `x` |\n"
    assert parse_markdown(good).tables == [[["a", "b"], ["1", "x"]]]
    with pytest.raises(AssertionError, match="rows of \\[2, 3\\] cells"):
        parse_markdown("| a | b |\n|---|---|\n| 1 | `x|y` |\n")
