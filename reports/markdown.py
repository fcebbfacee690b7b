"""`report.md`: the verdicts first, then the figures, fit for a pull-request comment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from harness.units import format_duration
from reports.lineage import DrawnTrace, traceable_id

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
            f"| `{verdict['checker']}` | {ICONS[verdict['status']]} | {_not_exercised(verdict)}"
            f"{verdict['summary']} |"
        )
    out += ["", "## Workflows", ""]
    out += [f"- {status}: {count:,}" for status, count in summary["workflows"].items()]
    out += [
        "",
        "## Calls per system",
        "",
        "| system | calls | ok | retries | business | transient | ambiguous | p50 | p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, calls in summary["systems"].items():
        errors, latency = calls["errors"], calls["latency_s"]
        cells = [
            name, f"{calls['calls']:,}", f"{calls['ok']:,}", f"{calls['retries']:,}",
            f"{errors['business']:,}", f"{errors['transient']:,}", f"{errors['ambiguous']:,}",
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
            out += [_evidence(item, run_dir, traces or {}) for item in verdict["evidence"][:10]]
            out.append("")
    if charts:
        out += ["", "## Charts", ""]
        out += [f"![{chart.stem}]({chart.relative_to(run_dir).as_posix()})" for chart in charts]
    return "\n".join(out).rstrip() + "\n"


def _evidence(item: dict[str, Any], run_dir: Path, traces: Mapping[str, DrawnTrace]) -> str:
    line = f"- `{compact(item)}`"
    drawn = traces.get(traceable_id(item) or "")
    if drawn is not None:
        line += f" — [lineage]({drawn.path.relative_to(run_dir).as_posix()})"
    return line


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def compact(item: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in item.items())


def _not_exercised(verdict: dict[str, Any]) -> str:
    """`*Not exercised:* no duplicate was delivered. ` for a pass nothing put to the test."""
    if verdict.get("exercised") is False and verdict["status"] == "pass":
        return f"*Not exercised: {verdict['coverage']}.* "
    return ""
