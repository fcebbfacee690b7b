"""`report.html`: the run for people, self-contained (charts embedded), verdicts first.

Rendered with Jinja2 from `templates/report.html.j2`; it reads the run's `summary.json` and
charts only, and needs no network to view.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.units import format_duration
from reports.evidence import SHOWN, describe, traceable_id
from reports.lineage import DrawnTrace
from reports.markdown import seconds

#: Chart file -> caption.
CAPTIONS = {
    "timeline": "Calls and failures per hour for each system, and quotes approved, completed "
    "and parked per hour, with every fault window shaded",
    "billing_to_support": "How long support lagged billing: the distribution of consistency "
    "windows, with the SLO lines",
    "latency": "End-to-end latency from a quote's approval until ERP, billing and support all "
    "hold it: p50, p95 and max of the quotes approved in each window, with the SLO lines",
    "queues": "Retried calls per hour by system, and how many workflows waited in the business "
    "exception queue and how many messages in a dead-letter queue",
    "outcomes": "How the workflows ended",
    "systems": "Per system: call latency (p50, p95, p99) and rejections by cause",
}

ENVIRONMENT = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(
    summary: Mapping[str, Any],
    charts: Sequence[Path],
    run_dir: Path,
    traces: Mapping[str, DrawnTrace] | None = None,
) -> str:
    """The page; `traces` (business id -> drawn swimlane) are embedded beside the evidence that
    names them."""
    start = datetime.fromisoformat(summary["simulated"]["start"])
    faults = [
        {
            "party": fault["party"],
            "kind": fault["kind"],
            "began": f"{start + timedelta(seconds=fault['start_s']):%a %d %b %H:%M}",
            "lasting": format_duration(fault["end_s"] - fault["start_s"]),
        }
        for fault in summary.get("faults", [])
    ]
    template = ENVIRONMENT.get_template("report.html.j2")
    return template.render(
        s=summary,
        hours=f"{summary['simulated']['horizon_s'] / 3600:g}",
        description=summary.get("description", ""),
        charts=[embedded(chart) for chart in charts],
        faults=faults,
        failing=[v for v in summary["checkers"] if v["status"] != "pass" and v["evidence"]],
        run_dir=run_dir,
        slo_text=_slo_text,
        seconds=seconds,
        compact=lambda item: describe(item, start),
        shown=SHOWN,
        trace_id=traceable_id,
        traces={
            business_id: {
                **embedded(drawn.path),
                "file": drawn.path.relative_to(run_dir).as_posix(),
                "text": drawn.text,
            }
            for business_id, drawn in (traces or {}).items()
        },
    )


def embedded(chart: Path, title: str | None = None) -> dict[str, str]:
    """A chart as a data URI, with its caption."""
    data = base64.b64encode(chart.read_bytes()).decode("ascii")
    title = title or CAPTIONS.get(chart.stem, chart.stem.replace("_", " "))
    return {"data": f"data:image/png;base64,{data}", "title": title}


def _slo_text(slo: Mapping[str, Any]) -> str:
    parts = []
    for name, value in slo.items():
        if value is None:
            continue
        if name.endswith("_s") and isinstance(value, int | float):
            parts.append(f"{name[:-2]} {format_duration(value)}")
        else:
            parts.append(f"{name} {value}")
    return ", ".join(parts) or "–"
