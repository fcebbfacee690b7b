"""Charts of a run, drawn from its directory: matplotlib, no display, colour-blind-safe colours.

- `timeline.png`: calls and failures per hour for each system, and quotes approved / completed
  / parked per hour, with every fault window shaded and labelled.
- `billing_to_support.png`: the distribution (CDF) of the billing -> support consistency
  window, with the SLO lines.
- `outcomes.png`: how the workflows ended (completed, superseded, parked, dead-lettered,
  compensated...).
- `systems.png`: per system, call latency (p50 / p95 / p99) and rejections by cause.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

#: Okabe–Ito palette: distinguishable with every common colour-vision deficiency.
PALETTE = {
    "cpq": "#E69F00",
    "erp": "#0072B2",
    "billing": "#009E73",
    "support": "#CC79A7",
    "approved": "#000000",
    "completed": "#009E73",
    "parked": "#D55E00",
    "orchestrator": "#56B4E9",
}
BUCKET_S = 3600.0
#: Fault kinds told apart by hatching as well as colour.
HATCHES = {"outage": "//", "brownout": "..", "partition": "xx", "orchestrator_crash": "\\\\"}


def write_charts(run_dir: Path, summary: dict[str, Any]) -> list[Path]:
    folder = run_dir / "charts"
    folder.mkdir(exist_ok=True)
    written = [_timeline(run_dir, summary, folder / "timeline.png")]
    window = _billing_to_support(summary, folder / "billing_to_support.png")
    if window is not None:
        written.append(window)
    written.append(_outcomes(summary, folder / "outcomes.png"))
    written.append(_systems(summary, folder / "systems.png"))
    return written


def _records(run_dir: Path) -> Iterator[dict[str, Any]]:
    with (run_dir / "history.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _timeline(run_dir: Path, summary: dict[str, Any], path: Path) -> Path:
    start = datetime.fromisoformat(summary["simulated"]["start"])
    buckets = int(summary["simulated"]["horizon_s"] // BUCKET_S) + 1
    systems = sorted(summary["systems"])
    calls = {name: [0] * buckets for name in systems}
    failures = {name: [0] * buckets for name in systems}
    flow = {key: [0] * buckets for key in ("approved", "completed", "parked")}
    for record in _records(run_dir):
        kind = record["kind"]
        index = min(int(record["t"] // BUCKET_S), buckets - 1)
        if kind == "call" and record["system"] in calls:
            if record["type"] == "invoke":
                calls[record["system"]][index] += 1
            elif record["type"] in ("fail", "info"):
                failures[record["system"]][index] += 1
        elif kind == "event" and record["type"] == "emitted":
            if record["event_type"] == "quote.approved":
                flow["approved"][index] += 1
        elif (
            kind == "workflow"
            and record["status"] in ("completed", "parked")
            # quotes only: a design's other workflows (ledger postings, say) are not quotes
            and record["keys"].get("quote") == record["workflow"]
        ):
            flow[record["status"]][index] += 1
    hours = [start + timedelta(seconds=i * BUCKET_S) for i in range(buckets)]

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True, layout="constrained")
    for name in systems:
        top.plot(hours, calls[name], color=PALETTE.get(name), linewidth=1.2, label=f"{name} calls")
        if any(failures[name]):
            top.plot(
                hours, failures[name], color=PALETTE.get(name), linewidth=1.0, linestyle=":",
                label=f"{name} failures",
            )  # fmt: skip
    top.set_ylabel("calls per hour")
    top.set_title(
        f"{summary['scenario']} × {summary['design']} (seed {summary['seed']}): traffic and faults"
    )
    for key, series in flow.items():
        bottom.step(hours, series, where="post", color=PALETTE[key], linewidth=1.2, label=key)
    bottom.set_ylabel("quotes per hour")
    bottom.set_xlabel("simulated time (UTC)")
    for axis in (top, bottom):
        _shade_faults(axis, summary["faults"], start)
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left", fontsize=8, ncols=3)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b\n%H:%M"))  # type: ignore[no-untyped-call]
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def _shade_faults(axis: Any, faults: list[dict[str, Any]], start: datetime) -> None:
    labelled: set[tuple[str, str]] = set()
    for fault in faults:
        key = (fault["party"], fault["kind"])
        axis.axvspan(
            start + timedelta(seconds=fault["start_s"]),
            start + timedelta(seconds=fault["end_s"]),
            color=PALETTE.get(fault["party"], "#999999"),
            alpha=0.18 if fault["kind"] in ("maintenance", "read_only") else 0.35,
            hatch=HATCHES.get(fault["kind"]),
            label=None if key in labelled else f"{fault['party']} {fault['kind']}",
        )
        labelled.add(key)


def _billing_to_support(summary: dict[str, Any], path: Path) -> Path | None:
    verdict = next((v for v in summary["checkers"] if v["checker"] == "billing_to_support"), None)
    if verdict is None or verdict["figures"].get("measured", 0) == 0:
        return None
    points = verdict["figures"]["quantiles_s"]
    shares = [float(q) / 100 for q in points]
    quantiles = list(points.values())
    figure, axis = plt.subplots(figsize=(8, 4.5), layout="constrained")
    axis.plot(
        [q / 60 for q in quantiles], shares, color=PALETTE["support"], marker=".", label="window"
    )
    for label, key, style in (
        ("p50 SLO", "p50_s", "--"),
        ("p95 SLO", "p95_s", "-."),
        ("max SLO", "max_s", ":"),
    ):
        axis.axvline(verdict["slo"][key] / 60, color="#555555", linestyle=style, label=label)
    axis.set_xlabel("billing → support consistency window (minutes)")
    axis.set_ylabel("share of contract changes")
    axis.set_title(
        f"Billing → support window: {verdict['status']} ({verdict['summary']})", fontsize=9
    )
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


#: Workflow outcomes in the order a reader weighs them, with their colours (Okabe–Ito).
OUTCOMES = {
    "completed": "#009E73", "superseded": "#56B4E9", "skipped": "#999999",
    "compensated": "#CC79A7", "parked": "#E69F00", "dead_lettered": "#D55E00",
    "crashed": "#000000", "interrupted": "#0072B2",
}  # fmt: skip


def _outcomes(summary: dict[str, Any], path: Path) -> Path:
    counts = summary["workflows"]
    names = [n for n in OUTCOMES if counts.get(n)] + sorted(set(counts) - set(OUTCOMES))
    figure, axis = plt.subplots(figsize=(8, 3.2), layout="constrained")
    values = [counts[n] for n in names]
    bars = axis.barh(names, values, color=[OUTCOMES.get(n, "#777777") for n in names])
    axis.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=8, padding=3)
    axis.invert_yaxis()
    axis.set_xscale("symlog")
    axis.set_xlabel("workflows (log scale)")
    axis.set_title("How the workflows ended", fontsize=10)
    axis.grid(axis="x", alpha=0.3)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def _systems(summary: dict[str, Any], path: Path) -> Path:
    systems = summary["systems"]
    names = list(systems)
    figure, (latency, rejected) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for offset, (quantile, alpha) in enumerate((("p50", 1.0), ("p95", 0.7), ("p99", 0.4))):
        values = [(systems[n]["latency_s"][quantile] or 0.0) for n in names]
        positions = [i + (offset - 1) * 0.27 for i in range(len(names))]
        latency.bar(positions, values, width=0.27, alpha=alpha, label=quantile,
                    color=[PALETTE.get(n, "#777777") for n in names])  # fmt: skip
    latency.set_xticks(range(len(names)), names)
    latency.set_ylabel("seconds")
    latency.set_title("Call latency (answered calls)", fontsize=10)
    legend = latency.legend(fontsize=8)
    for handle, alpha in zip(legend.legend_handles, (1.0, 0.7, 0.4), strict=False):
        if handle is not None:  # the quantile is told by shade; colours tell systems apart
            handle.set_color("#555555")
            handle.set_alpha(alpha)
    latency.grid(axis="y", alpha=0.3)
    causes = sorted({c for n in names for c in systems[n]["rejections"]})
    bottom: list[float] = [0.0] * len(names)
    for index, cause in enumerate(causes):
        values = [systems[n]["rejections"].get(cause, 0) for n in names]
        rejected.bar(names, values, bottom=bottom, label=cause,
                     color=CAUSE_COLOURS[index % len(CAUSE_COLOURS)])  # fmt: skip
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    rejected.set_title("Rejections by cause", fontsize=10)
    rejected.set_ylabel("calls")
    if causes:
        rejected.legend(fontsize=8)
    rejected.grid(axis="y", alpha=0.3)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


CAUSE_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
