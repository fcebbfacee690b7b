"""The comparison report: designs side by side, and the seed document's decision table, measured.

Reads `comparison.json` only (harness/compare.py writes it); every cell of the decision table
quotes a figure of the run, nothing is asserted that the run did not show.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.units import format_duration
from reports.comparison_charts import CHARTED, colours, write_comparison_charts
from reports.html import ENVIRONMENT, embedded
from reports.markdown import ICONS, icon


def _calls(figures: dict[str, Any]) -> str:
    return _cell(figures["calls_per_quote"], "{:.2f}".format)


def _cell(value: Any, show: Callable[[Any], str]) -> str:
    return "–" if value is None else show(value)


def _duration(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(seconds)


def _share(share: float | None) -> str:
    return "–" if share is None else f"{share:.1%}"


#: (label, figure key, how to show it) for the figures table and the chart.
FIGURES: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("billing → support window p50", "window_p50_s", _duration),
    ("billing → support window p95", "window_p95_s", _duration),
    ("billing → support window max", "window_max_s", _duration),
    ("end-to-end latency p95", "end_to_end_p95_s", _duration),
    ("versions that never reached support", "versions_never_reached_support", lambda v: f"{v:,}"),
    ("invoiced before entitled", "invoiced_before_entitled_share", _share),
    ("duplicate effects", "duplicate_effects", lambda v: f"{v:,}"),
    ("partial contracts at the end", "partial_contracts", lambda v: f"{v:,}"),
    ("stale overwrites", "stale_overwrites", lambda v: f"{v:,}"),
    ("lost quotes", "lost", lambda v: f"{v:,}"),
    ("billing documents never in ERP's ledger", "lost_ledger_documents", lambda v: f"{v:,}"),
    ("parked with a reason", "parked", lambda v: f"{v:,}"),
    ("contract versions completed per hour", "completed_per_hour", lambda v: f"{v:,.1f}"),
    ("calls per approved quote", "calls_per_quote", lambda v: f"{v:,.2f}"),
    ("retries per successful call", "retries_per_successful_call", lambda v: f"{v:.3f}"),
)
#: Comparison chart file -> caption.
CAPTIONS = {
    "windows": "Every design's billing → support consistency window on one CDF (log scale), "
    "with the SLO lines: the further left and the steeper, the sooner support saw what billing "
    "charged for",
    **{key: f"{title}, per design" for title, key, *_ in CHARTED},
}


def write_comparison_report(directory: Path) -> list[Path]:
    """Write `comparison.html`, `comparison.md` and `charts/*.png` for a comparison directory;
    return them in that order."""
    data = json.loads((directory / "comparison.json").read_text(encoding="utf-8"))
    charts = write_comparison_charts(data, directory)
    html = directory / "comparison.html"
    html.write_text(render_comparison_html(data, charts, directory), encoding="utf-8")
    report = directory / "comparison.md"
    relative = [chart.relative_to(directory) for chart in charts]
    report.write_text(render_comparison(data, relative), encoding="utf-8")
    return [html, report, *charts]


def render_comparison_html(data: dict[str, Any], charts: Sequence[Path], directory: Path) -> str:
    """The comparison for people: self-contained, verdicts, then a chart per key figure."""
    designs: dict[str, Any] = data["designs"]
    checkers = list(next(iter(designs.values()))["verdicts"]) if designs else []
    return ENVIRONMENT.get_template("comparison.html.j2").render(
        data=data,
        designs=designs,
        checkers=checkers,
        figures=[
            (label, [_cell(designs[n]["figures"].get(key), show) for n in designs])
            for label, key, show in FIGURES
        ],
        charts=[embedded(chart, CAPTIONS.get(chart.stem)) for chart in charts],
        colours=colours(list(designs)),
        decisions=decision_rows(designs),
        reports={
            name: f"{name}/report.html"
            for name in designs
            if (directory / name / "report.html").is_file()
        },
    )


def render_comparison(data: dict[str, Any], charts: Sequence[Path] = ()) -> str:
    designs: dict[str, Any] = data["designs"]
    names = list(designs)
    head = "| | " + " | ".join(f"`{name}`" for name in names) + " |"
    rule = "|---|" + "---|" * len(names)
    out = [
        f"# Syncline comparison: {data['scenario']} (seed {data['seed']})",
        "",
        f"{len(names)} designs on the same world, workload and fault schedule, "
        f"{data['simulated_hours']:g} simulated hours each.",
        "",
        "## Verdicts",
        "",
        head.replace("| |", "| checker |", 1),
        rule,
    ]
    checkers = list(next(iter(designs.values()))["verdicts"]) if designs else []
    for checker in checkers:
        cells = [icon(designs[name]["verdicts"][checker]) for name in names]
        out.append(f"| `{checker}` | " + " | ".join(cells) + " |")
    out.append("| **overall** | " + " | ".join(ICONS[designs[n]["status"]] for n in names) + " |")
    out += ["", "## Figures", "", head.replace("| |", "| figure |", 1), rule]
    for label, key, show in FIGURES:
        cells = [_cell(designs[name]["figures"].get(key), show) for name in names]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    if charts:
        out += ["", "## Charts", ""]
        out += [f"![{chart.stem.replace('_', ' ')}]({chart.as_posix()})" for chart in charts]
    out += ["", *decision_table(designs)]
    out += ["", "Each design's own report: " + ", ".join(
        f"[{name}]({name}/report.md)" for name in names
    ), ""]  # fmt: skip
    return "\n".join(out)


def decision_rows(designs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The seed document's "architecture decision / benefit / trade-off" rows for the designs
    compared: (decision, design, benefit as measured, trade-off as measured)."""
    return [
        (decision, name, benefit(designs[name]["figures"]), tradeoff(designs[name]["figures"]))
        for name, decision, benefit, tradeoff in _DECISIONS
        if name in designs
    ]


def decision_table(designs: dict[str, Any]) -> list[str]:
    """The decision table in Markdown."""
    rows = [f"| {d} | `{name}` | {b} | {t} |" for d, name, b, t in decision_rows(designs)]
    if not rows:
        return []
    return [
        "## The seed document's decision table, measured",
        "",
        "| Architecture decision | design | benefit, as measured | trade-off, as measured |",
        "|---|---|---|---|",
        *rows,
    ]


def _failures(f: dict[str, Any]) -> str:
    return (
        f"{f['duplicate_effects']:,} duplicate effects, {f['partial_contracts']:,} partial "
        f"contracts, {f['stale_overwrites']:,} stale overwrites, {f['lost']:,} lost quotes"
    )


_DECISIONS: tuple[tuple[str, str, Callable[[Any], str], Callable[[Any], str]], ...] = (
    (
        "point-to-point",
        "Direct SaaS-to-ERP APIs",
        lambda f: (
            f"fast initial deployment: no middleware; {_calls(f)} calls per quote, "
            f"billing → support p50 {_duration(f['window_p50_s'])}"
        ),
        lambda f: f"weak governance at scale: {_failures(f)}",
    ),
    (
        "reference",
        "Middleware-led orchestration",
        lambda f: (
            f"reusable controls and resilience: {_failures(f)}; "
            f"{f['parked']:,} parked with a reason"
        ),
        lambda f: (
            f"platform engineering: {_calls(f)} calls per quote (validation, read-backs), "
            f"{f['retries_per_successful_call']:.3f} retries per successful call"
        ),
    ),
    (
        "choreography",
        "Event-driven synchronization",
        lambda f: (
            f"decoupling: {f['duplicate_effects']:,} duplicate effects with idempotent "
            f"consumers; billing → support p50 {_duration(f['window_p50_s'])}"
        ),
        lambda f: (
            f"needs event governance: {f['stale_overwrites']:,} stale overwrites, "
            f"{f['partial_contracts']:,} partial contracts, "
            f"{f['versions_never_reached_support']:,} versions never reached support"
        ),
    ),
    (
        "batch-esb",
        "Legacy batch ESB",
        lambda f: (
            f"stable back-office batches: {_calls(f)} calls per quote, "
            f"{f['duplicate_effects']:,} duplicate effects"
        ),
        lambda f: (
            f"struggles with SaaS timing: billing → support p50 "
            f"{_duration(f['window_p50_s'])}, {_share(f['invoiced_before_entitled_share'])} of "
            f"invoices before the entitlement, {f['stale_overwrites']:,} stale overwrites"
        ),
    ),
)
