"""`report.md`: the verdicts first, then the figures, fit for a pull-request comment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from harness.units import format_duration
from reports.evidence import SHOWN, describe, traceable_id
from reports.lineage import DrawnTrace

ICONS = {"pass": "✅ pass", "fail": "❌ fail", "unknown": "❔ unknown"}


def render_markdown(
    summary: dict[str, Any],
    charts: Sequence[Path],
    run_dir: Path,
    traces: Mapping[str, DrawnTrace] | None = None,
) -> str:
    out = [
        f"# Syncline: {summary['scenario']} × {summary['design']} (seed {summary['seed']})",
        "",
        f"**Result: {ICONS[summary['status']]}** · simulated from "
        f"{summary['simulated']['start']} for {summary['simulated']['horizon_s'] / 3600:g} h "
        f"({summary['history']['records']:,} history records)",
        "",
        "## Verdicts",
        "",
        "| checker | verdict | result |",
        "|---|---|---|",
    ]
    for verdict in summary["checkers"]:
        out.append(
            f"| `{verdict['checker']}` | {icon(verdict)} | {_not_exercised(verdict)}"
            f"{verdict['summary']} |"
        )
    out += ["", "## Workflows", ""]
    out += [f"- {status}: {count:,}" for status, count in summary["workflows"].items()]
    out += [
        "",
        "## Calls per system",
        "",
        "| system | calls | ok | retries | business | transient | ambiguous | not found | p50 "
        "| p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, calls in summary["systems"].items():
        errors, latency = calls["errors"], calls["latency_s"]
        cells = [
            name, f"{calls['calls']:,}", f"{calls['ok']:,}", f"{calls['retries']:,}",
            f"{errors['business']:,}", f"{errors['transient']:,}", f"{errors['ambiguous']:,}",
            f"{calls.get('lookups_not_found', 0):,}",
            *(seconds(latency[p]) for p in ("p50", "p95", "p99")),
        ]  # fmt: skip
        out.append("| " + " | ".join(cells) + " |")
    if summary["faults"]:
        start = datetime.fromisoformat(summary["simulated"]["start"])
        out += [
            "",
            "## Faults",
            "",
            "| party | fault | from (UTC) | lasting |",
            "|---|---|---|---:|",
        ]
        for fault in summary["faults"]:
            began = start + timedelta(seconds=fault["start_s"])
            lasting = format_duration(fault["end_s"] - fault["start_s"])
            params = ", ".join(f"{k}={v}" for k, v in fault.get("params", {}).items())
            kind = f"{fault['kind']} ({params})" if params else fault["kind"]
            out.append(f"| {fault['party']} | {kind} | {began:%a %d %b %H:%M} | {lasting} |")
    failing = [v for v in summary["checkers"] if v["status"] != "pass" and v["evidence"]]
    if failing:
        out += ["", "## Evidence", ""]
        for verdict in failing:
            out += [f"### `{verdict['checker']}`", ""]
            start = datetime.fromisoformat(summary["simulated"]["start"])
            out += [
                _evidence(item, run_dir, traces or {}, start)
                for item in verdict["evidence"][:SHOWN]
            ]
            out.append("")
    if charts:
        out += ["", "## Charts", ""]
        out += [f"![{chart.stem}]({chart.relative_to(run_dir).as_posix()})" for chart in charts]
    return "\n".join(out).rstrip() + "\n"


def _evidence(
    item: dict[str, Any], run_dir: Path, traces: Mapping[str, DrawnTrace], start: datetime
) -> str:
    line = f"- {describe(item, start)}"
    traced = traceable_id(item)
    if traced is not None:
        line += f" — `syncline trace {run_dir} {traced}`"
        drawn = traces.get(traced)
        if drawn is not None:
            line += f" ([lineage]({drawn.path.relative_to(run_dir).as_posix()}))"
    return line


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def icon(verdict: dict[str, Any]) -> str:
    """The verdict's cell: `reported` for figures no threshold judged, `not judged` for a
    checker this business's systems give nothing to judge."""
    if verdict.get("judged") is False:
        return "➖ not judged" if verdict["summary"].startswith("not judged") else "📋 reported"
    return ICONS[verdict["status"]]


def _not_exercised(verdict: dict[str, Any]) -> str:
    """`*Not exercised:* no duplicate was delivered. ` for a pass nothing put to the test."""
    if verdict.get("exercised") is False and verdict["status"] == "pass":
        return f"*Not exercised: {verdict['coverage']}.* "
    return ""
