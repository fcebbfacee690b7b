"""Charts of a comparison: one bar chart per key figure, and the billing -> support windows of
every design on one CDF. Each design keeps its colour in every chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

#: One colour per shipped design, the same in every chart (Okabe–Ito); plugins get greys.
DESIGN_COLOURS = {
    "point-to-point": "#D55E00",
    "choreography": "#0072B2",
    "batch-esb": "#E69F00",
    "reference": "#009E73",
}
PLUGIN_COLOURS = ("#555555", "#999999", "#CC79A7", "#56B4E9")
#: (title, figure key, scale, unit, lower is better): one chart each, where designs differ most.
CHARTED = (
    ("Duplicate effects", "duplicate_effects", 1.0, "", True),
    ("Partial contracts at the end", "partial_contracts", 1.0, "", True),
    ("Stale overwrites", "stale_overwrites", 1.0, "", True),
    ("Lost quotes", "lost", 1.0, "", True),
    ("Billing → support window p95", "window_p95_s", 1 / 60, "minutes", True),
    ("Invoiced before entitled", "invoiced_before_entitled_share", 100.0, "% of invoices", True),
    ("End-to-end latency p95", "end_to_end_p95_s", 1 / 60, "minutes", True),
    ("Contract versions completed", "completed_per_hour", 1.0, "per hour", False),
    ("Calls per approved quote", "calls_per_quote", 1.0, "calls", True),
)


def colours(names: list[str]) -> dict[str, str]:
    plugins = iter(PLUGIN_COLOURS * (1 + len(names) // len(PLUGIN_COLOURS)))
    return {name: DESIGN_COLOURS.get(name) or next(plugins) for name in names}


def write_comparison_charts(data: dict[str, Any], directory: Path) -> list[Path]:
    """Draw the charts into `directory/charts`; return them, the window CDF first if any."""
    folder = directory / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    palette = colours(list(data["designs"]))
    windows = _windows(data, directory, palette, folder / "windows.png")
    bars = [_bars(data, palette, entry, folder / f"{entry[1]}.png") for entry in CHARTED]
    return ([windows] if windows else []) + bars


def _bars(
    data: dict[str, Any],
    palette: dict[str, str],
    entry: tuple[str, str, float, str, bool],
    path: Path,
) -> Path:
    title, key, scale, unit, lower_is_better = entry
    designs: dict[str, Any] = data["designs"]
    names = list(designs)
    values = [designs[name]["figures"].get(key) for name in names]
    shown = [0.0 if value is None else value * scale for value in values]
    figure, axis = plt.subplots(figsize=(4.6, 3.2), layout="constrained")
    bars = axis.bar(range(len(names)), shown, color=[palette[name] for name in names])
    labels = [
        "n/a" if value is None else f"{v:,.3g}" for value, v in zip(values, shown, strict=True)
    ]
    axis.bar_label(bars, labels=labels, fontsize=8)
    axis.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    better = "lower is better" if lower_is_better else "higher is better"
    axis.set_title(f"{title}\n({better})", fontsize=10)
    if unit:
        axis.set_ylabel(unit)
    axis.margins(y=0.2)
    axis.grid(axis="y", alpha=0.3)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def _windows(
    data: dict[str, Any], directory: Path, palette: dict[str, str], path: Path
) -> Path | None:
    """Each design's billing -> support window quantiles on one CDF, from its own run."""
    figure, axis = plt.subplots(figsize=(9, 4.5), layout="constrained")
    slo: dict[str, Any] = {}
    drawn = 0
    for name, entry in data["designs"].items():
        summary_file = directory / name / "summary.json"
        if not summary_file.is_file():
            continue
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        verdict = next(
            (v for v in summary["checkers"] if v["checker"] == "billing_to_support"), None
        )
        if verdict is None or not verdict["figures"].get("measured"):
            continue
        points = verdict["figures"]["quantiles_s"]
        axis.plot([max(q, 1.0) / 60 for q in points.values()],
                  [float(share) / 100 for share in points], color=palette[name], marker=".",
                  linewidth=1.6, label=f"{name} ({entry['status']})")  # fmt: skip
        slo = verdict["slo"]
        drawn += 1
    if not drawn:
        plt.close(figure)
        return None
    for label, key, style in (("p50 SLO", "p50_s", "--"), ("p95 SLO", "p95_s", "-.")):
        if slo.get(key):
            axis.axvline(slo[key] / 60, color="#555555", linestyle=style, label=label)
    axis.set_xscale("log")
    axis.set_xlabel("billing → support consistency window (minutes, log)")
    axis.set_ylabel("share of contract changes")
    axis.set_title(f"{data['scenario']}, seed {data['seed']}: how long support lagged billing")
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path
