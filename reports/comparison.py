"""The comparison report: designs side by side, and the seed document's decision table, measured.

Reads `comparison.json` only (harness/compare.py writes it); every cell of the decision table
quotes a figure of the run, nothing is asserted that the run did not show.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from harness.units import format_duration
from reports.markdown import ICONS

#: One colour per shipped design, the same in every chart (Okabe–Ito); plugins get grey.
DESIGN_COLOURS = {
    "point-to-point": "#D55E00",
    "choreography": "#0072B2",
    "batch-esb": "#E69F00",
    "reference": "#009E73",
}


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
#: The chart: the figures where the designs differ most, one panel each.
CHARTED = (
    ("duplicate effects", "duplicate_effects", 1.0, ""),
    ("partial contracts at the end", "partial_contracts", 1.0, ""),
    ("stale overwrites", "stale_overwrites", 1.0, ""),
    ("lost quotes", "lost", 1.0, ""),
    ("billing → support window p95", "window_p95_s", 1 / 60, " (minutes)"),
    ("invoiced before entitled", "invoiced_before_entitled_share", 100.0, " (%)"),
)


def write_comparison_report(directory: Path) -> list[Path]:
    """Write `comparison.md` and `charts/comparison.png` for a comparison directory."""
    data = json.loads((directory / "comparison.json").read_text(encoding="utf-8"))
    chart = _chart(data, directory / "charts" / "comparison.png")
    report = directory / "comparison.md"
    report.write_text(render_comparison(data, chart.relative_to(directory)), encoding="utf-8")
    return [report, chart]


def render_comparison(data: dict[str, Any], chart: Path | None = None) -> str:
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
        cells = [ICONS[designs[name]["verdicts"][checker]["status"]] for name in names]
        out.append(f"| `{checker}` | " + " | ".join(cells) + " |")
    out.append("| **overall** | " + " | ".join(ICONS[designs[n]["status"]] for n in names) + " |")
    out += ["", "## Figures", "", head.replace("| |", "| figure |", 1), rule]
    for label, key, show in FIGURES:
        cells = [_cell(designs[name]["figures"].get(key), show) for name in names]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    if chart is not None:
        out += ["", f"![The designs side by side]({chart.as_posix()})"]
    out += ["", *decision_table(designs)]
    out += ["", "Each design's own report: " + ", ".join(
        f"[{name}]({name}/report.md)" for name in names
    ), ""]  # fmt: skip
    return "\n".join(out)


def decision_table(designs: dict[str, Any]) -> list[str]:
    """The seed document's "architecture decision / benefit / trade-off" table, with figures."""
    rows = []
    for name, decision, benefit, tradeoff in _DECISIONS:
        if name in designs:
            figures = designs[name]["figures"]
            rows.append(f"| {decision} | `{name}` | {benefit(figures)} | {tradeoff(figures)} |")
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


def _chart(data: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    designs: dict[str, Any] = data["designs"]
    names = list(designs)
    colours = [DESIGN_COLOURS.get(name, "#999999") for name in names]
    figure, axes = plt.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
    for axis, (title, key, scale, unit) in zip(axes.flat, CHARTED, strict=True):
        values = [(designs[name]["figures"].get(key) or 0) * scale for name in names]
        bars = axis.bar(range(len(names)), values, color=colours)
        axis.set_title(title + unit, fontsize=10)
        axis.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
        axis.bar_label(bars, labels=[f"{v:,.3g}" for v in values], fontsize=8)
        axis.margins(y=0.2)
        axis.grid(axis="y", alpha=0.3)
    figure.suptitle(f"{data['scenario']}, seed {data['seed']}: designs side by side")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
