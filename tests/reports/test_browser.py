"""The reports in a real browser: headless Chromium (Debian's, installed by `make test`) loads
them without a console error, shows every chart, and takes a screenshot."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from reports.browser import check_page
from reports.comparison import write_comparison_report
from tests.conftest import scenario_with
from tests.reports.conftest import Reported


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture
def failing_run(failing_report: Reported) -> Path:
    return failing_report.run_dir


def test_a_run_report_renders_cleanly_with_every_chart_and_trace(
    failing_run: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    seen = check_page(failing_run / "report.html", shot)
    assert seen.errors == []
    assert seen.broken_images == []
    drawn_traces = len(list((failing_run / "traces").glob("*.png")))
    assert drawn_traces > 0 and seen.images == 6 + drawn_traces
    assert seen.title.startswith("Syncline: subscription_amendment")
    width, height = png_size(shot)
    assert width == 1280 and height == seen.height > 3000  # the whole page, charts and all


def test_a_comparison_renders_cleanly(tmp_path: Path) -> None:
    from harness.compare import compare

    scenario = scenario_with(duration="1d", drain="1d")
    comparison = compare(scenario, ["point-to-point", "reference"], 3, tmp_path, workers=1)
    write_comparison_report(comparison.directory)
    seen = check_page(comparison.directory / "comparison.html", tmp_path / "comparison.png")
    assert seen.clean, seen
    assert seen.images == len(list((comparison.directory / "charts").glob("*.png"))) == 10


def test_the_check_sees_broken_images_and_script_errors(failing_run: Path, tmp_path: Path) -> None:
    page = (failing_run / "report.html").read_text(encoding="utf-8")
    broken = page.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAA", 1)
    broken = broken.replace("</main>", "<script>console.error('boom'); nosuch();</script></main>")
    damaged = tmp_path / "damaged.html"
    damaged.write_text(broken, encoding="utf-8")
    seen = check_page(damaged)
    assert len(seen.broken_images) == 1
    assert any("boom" in e for e in seen.errors) and any("nosuch" in e for e in seen.errors)
    assert not seen.clean
