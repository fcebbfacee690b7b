"""`report.html`: self-contained, verdicts first, every chart embedded, evidence traceable."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

from tests.reports.conftest import Reported


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found.get("src") or "")
        if tag in ("a", "link", "script"):
            self.links.append(found.get("href") or found.get("src") or "")
        self._in_heading = tag in ("h1", "h2")

    def handle_data(self, data: str) -> None:
        if self._in_heading and data.strip():
            self.headings.append(data.strip())
            self._in_heading = False


def page(run_dir: Path) -> tuple[str, _Page]:
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(text)
    return text, parsed


def test_the_report_is_self_contained_and_opens_with_the_verdicts(
    passing_report: Reported,
) -> None:
    result = passing_report.result
    text, parsed = page(result.run_dir)
    assert parsed.headings[:3] == ["subscription_amendment × reference", "Verdicts",
                                   "The story of the run"]  # fmt: skip
    assert not [link for link in parsed.links if link.startswith(("http:", "https:", "//"))]
    assert (
        len(parsed.images) == 6
    )  # timeline, latency, billing -> support, queues, outcomes, systems
    for source in parsed.images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:4] == b"\x89PNG"
    for verdict in result.verdicts:
        assert f'id="checker-{verdict.checker}"' in text
    assert "Evidence" not in parsed.headings  # nothing failed


def test_failed_checkers_evidence_links_to_its_drawn_lineage(failing_report: Reported) -> None:
    result = failing_report.result
    text, parsed = page(result.run_dir)
    assert "Evidence" in parsed.headings and "Lineage of the evidence" in parsed.headings
    assert re.search(r"syncline trace \S+ (CT|Q)-\d+", text)
    assert '<span class="badge fail">fail</span>' in text
    anchors = set(re.findall(r'href="#trace-([^"]+)"', text))
    drawn = set(re.findall(r'<figure id="trace-([^"]+)">', text))
    assert anchors and anchors == drawn  # every link lands on a drawn trace, none is orphaned
    for business_id in drawn:
        assert (result.run_dir / "traces" / f"{business_id}.png").is_file()
        assert f"Lineage of {business_id}: " in text  # the steps as text, under the swimlane
    assert len(parsed.images) == 6 + len(drawn)
    markdown = (result.run_dir / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"\[lineage\]\((traces/[^)]+)\)", markdown)
    assert links and all((result.run_dir / link).is_file() for link in links)
