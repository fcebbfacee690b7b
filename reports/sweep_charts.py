"""Charts of a sweep: each key figure against the sweep's points, the mean with its confidence
interval over the seeds, every seed's value behind it, and the SLO as a dashed line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

MEAN_COLOUR = "#0072B2"  # Okabe–Ito blue
SEED_COLOUR = "#999999"
SLO_COLOUR = "#D55E00"


@dataclass(frozen=True)
class Charted:
    """A figure the report draws: its title, its name in the results, how to show it."""

    title: str
    figure: str  # `checker.figure`, as in results.jsonl
    scale: float = 1.0
    unit: str = ""

    @property
    def file(self) -> str:
        return self.figure.replace(".", "-")


#: The figures an architect reads first; any `<source>_to_<target>` window is added beside them.
CHARTED = (
    Charted("Billing → support window p95", "billing_to_support.p95_s", 1 / 60, "minutes"),
    Charted("Billing → support window p50", "billing_to_support.p50_s", 1 / 60, "minutes"),
    Charted("End-to-end latency p95", "end_to_end.p95_s", 1 / 60, "minutes"),
    Charted("Contract versions completed", "end_to_end.per_hour", 1.0, "per hour"),
    Charted("Invoiced before entitled", "invoiced_before_entitled.share", 100.0, "% of invoices"),
    Charted("Duplicate effects", "effect_once.duplicates"),
    Charted("Lost quotes", "nothing_lost.lost"),
    Charted("Parked with a reason", "nothing_lost.parked"),
    Charted("Stale overwrites", "monotonic_versions.stale_overwrites"),
    Charted("Partial contracts at the end", "partial_updates.partial_at_end"),
)


def charted(aggregates: Mapping[str, Any]) -> list[Charted]:
    """The key figures present in the sweep, then every other consistency window's p95."""
    present = {name for point in aggregates["points"] for name in point["figures"]}
    shown = [c for c in CHARTED if c.figure in present]
    known = {c.figure for c in CHARTED}
    for name in sorted(present - known):
        checker, _, field = name.partition(".")
        if "_to_" in checker and field == "p95_s":
            shown.append(Charted(f"{checker.replace('_to_', ' → ')} window p95", name,
                                 1 / 60, "minutes"))  # fmt: skip
    return shown


def write_sweep_charts(
    aggregates: Mapping[str, Any], results: Sequence[Mapping[str, Any]], directory: Path
) -> list[tuple[Charted, Path]]:
    """Draw one chart per charted figure into `directory/charts`."""
    folder = directory / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        (entry, _draw(entry, aggregates, results, folder / f"{entry.file}.png"))
        for entry in charted(aggregates)
    ]


def _draw(
    entry: Charted,
    aggregates: Mapping[str, Any],
    results: Sequence[Mapping[str, Any]],
    path: Path,
) -> Path:
    points = aggregates["points"]
    figure, axis = plt.subplots(figsize=(5.6, 3.4), layout="constrained")
    for x, point in enumerate(points):  # every seed's value, spread a little sideways
        values = [
            r["figures"][entry.figure] * entry.scale
            for r in results
            if r["point"] == point["index"] and r["figures"].get(entry.figure) is not None
        ]
        spread = [x + 0.18 * ((i * 0.618) % 1 - 0.5) for i in range(len(values))]
        axis.scatter(spread, values, s=9, color=SEED_COLOUR, alpha=0.6, linewidths=0,
                     label="one seed" if x == 0 else None)  # fmt: skip
    xs: list[int] = []
    means: list[float] = []
    errors: list[list[float]] = [[], []]
    for x, point in enumerate(points):
        stats = point["figures"].get(entry.figure)
        if stats is None:
            continue
        mean = stats["mean"] * entry.scale
        low = stats["ci_low"] if stats["ci_low"] is not None else stats["mean"]
        high = stats["ci_high"] if stats["ci_high"] is not None else stats["mean"]
        xs.append(x)
        means.append(mean)
        errors[0].append(max(mean - low * entry.scale, 0.0))
        errors[1].append(max(high * entry.scale - mean, 0.0))
    level = round(aggregates["confidence"] * 100)
    axis.errorbar(xs, means, yerr=errors, color=MEAN_COLOUR, marker="o", capsize=4,
                  linewidth=1.5, label=f"mean, {level}% CI")  # fmt: skip
    limits = {point["slo"].get(entry.figure) for point in points} - {None}
    for limit in sorted(limits):
        axis.axhline(limit * entry.scale, color=SLO_COLOUR, linestyle="--", linewidth=1,
                     label="SLO" if limit == min(limits) else None)  # fmt: skip
    labels = [_short(point["label"]) for point in points]
    axis.set_xticks(range(len(points)), labels, rotation=20 if len(points) > 4 else 0,
                    ha="right" if len(points) > 4 else "center", fontsize=8)  # fmt: skip
    axis.set_xlim(-0.5, len(points) - 0.5)
    if all(mean >= 0 for mean in means) and not any(limit < 0 for limit in limits):
        axis.set_ylim(bottom=0)  # counts, shares and durations start at zero
    if not entry.unit:  # a count: whole numbers, and room above a line of zeros
        axis.set_ylim(top=max(axis.get_ylim()[1], 1.0))
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_title(entry.title, fontsize=10)
    if entry.unit:
        axis.set_ylabel(entry.unit)
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=7, loc="best")
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def _short(label: str) -> str:
    """`systems.erp.outages.mtbf=1d` reads as `mtbf=1d` on an axis; the table has it in full."""
    return ", ".join(part.rsplit(".", 1)[-1] for part in label.split(", "))
