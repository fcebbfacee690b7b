"""Reports read a run directory only; they show verdicts, they never recompute them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.charts import write_charts
from reports.html import render_html
from reports.lineage import draw_evidence
from reports.markdown import render_markdown


def load_summary(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return data


def write_reports(run_dir: Path) -> list[Path]:
    """Write `report.html`, `report.md` and `charts/*.png` into a run directory; return what
    was written."""
    summary = load_summary(run_dir)
    charts = write_charts(run_dir, summary)
    traces = draw_evidence(run_dir, summary)
    report = run_dir / "report.md"
    report.write_text(render_markdown(summary, charts, run_dir, traces), encoding="utf-8")
    html = run_dir / "report.html"
    html.write_text(render_html(summary, charts, run_dir, traces), encoding="utf-8")
    return [html, report, *charts, *(drawn.path for drawn in traces.values())]


__all__ = ["load_summary", "render_html", "render_markdown", "write_charts", "write_reports"]
