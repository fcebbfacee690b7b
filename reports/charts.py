"""Charts of a run, drawn from its directory: matplotlib, no display, colour-blind-safe colours.

- `timeline.png`: calls and failures per hour for each system, and quotes approved / completed
  / parked per hour, with every fault window shaded and labelled.
- `latency.png`: end-to-end latency (approval to ERP, billing and support) p50 / p95 / max of
  the quotes approved in each six hours, with the SLO lines and the fault windows.
- `queues.png`: retries per hour by system, and the depth of the business exception queue and
  of the dead letters over time, with the fault windows.
- `billing_to_support.png`: the distribution (CDF) of the billing -> support consistency
  window, with the SLO lines.
- `outcomes.png`: how the workflows ended (completed, superseded, parked, dead-lettered,
  compensated...).
- `systems.png`: per system, call latency (p50 / p95 / p99) and rejections by cause.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from harness.scenario.fault_kinds import BY_NAME as FAULT_KINDS
from harness.units import format_duration
from reports.series import HOUR_S, Series, read_series

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


def write_charts(run_dir: Path, summary: dict[str, Any]) -> list[Path]:
    folder = run_dir / "charts"
    folder.mkdir(exist_ok=True)
    series = read_series(run_dir, summary)
    drawn = [
        _timeline(series, summary, folder / "timeline.png"),
        _latency(series, summary, folder / "latency.png"),
        _billing_to_support(summary, folder / "billing_to_support.png"),
        _queues(series, summary, folder / "queues.png"),
        _outcomes(summary, folder / "outcomes.png"),
        _systems(summary, folder / "systems.png"),
    ]
    return [path for path in drawn if path is not None]


def _timeline(series: Series, summary: dict[str, Any], path: Path) -> Path:
    hours = series.calls.index
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 7), sharex=True, layout="constrained")
    for name in series.calls.columns:
        colour = PALETTE.get(name)
        top.plot(hours, series.calls[name], color=colour, linewidth=1.2, label=f"{name} calls")
        if series.failures[name].any():
            top.plot(
                hours, series.failures[name], color=colour, linewidth=1.0, linestyle=":",
                label=f"{name} failures",
            )  # fmt: skip
    top.set_ylabel(f"calls per {_bucket_name(series)}")
    top.set_title(f"{_title(summary)}: traffic and faults")
    # Without CPQ the inputs are the contract versions the web shop sold into billing.
    sold_in_billing = "cpq" not in summary["systems"]
    for key in series.quotes.columns:
        label = "sold" if sold_in_billing and key == "approved" else key
        bottom.step(hours, series.quotes[key], where="post", color=PALETTE[key], linewidth=1.2,
                    label=label)  # fmt: skip
    inputs = "contract versions" if sold_in_billing else "quotes"
    bottom.set_ylabel(f"{inputs} per {_bucket_name(series)}")
    _finish_time_axes((top, bottom), summary, series.start)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def _latency(series: Series, summary: dict[str, Any], path: Path) -> Path | None:
    """End-to-end latency percentiles of the quotes approved in each window, with the SLOs."""
    windows = 6 if series.bucket_s == HOUR_S else 4
    table = series.latency_percentiles(windows)
    if table.empty:
        return None
    figure, axis = plt.subplots(figsize=(12, 4.2), layout="constrained")
    for column, colour, marker in (("p50", "#0072B2", "o"), ("p95", "#E69F00", "s"),
                                   ("max", "#D55E00", "^")):  # fmt: skip
        axis.step(table.index, table[column] / 60, where="post", color=colour, linewidth=1.4,
                  label=column)  # fmt: skip
        axis.plot(table.index, table[column] / 60, linestyle="none", marker=marker, markersize=3,
                  color=colour)  # fmt: skip
    verdict = _verdict(summary, "end_to_end")
    for key, style in (("p50_s", "--"), ("p95_s", "-."), ("max_s", ":")):
        limit = (verdict or {}).get("slo", {}).get(key)
        if limit:
            axis.axhline(limit / 60, color="#555555", linestyle=style,
                         label=f"{key[:-2]} SLO {format_duration(limit)}")  # fmt: skip
    axis.set_yscale("log")
    axis.set_ylabel("approval → ERP, billing and support (minutes, log; raw)")
    hours = series.bucket_s * windows / HOUR_S
    axis.set_title(
        f"{_title(summary)}: end-to-end latency of the quotes approved in each {hours:g} h",
        fontsize=10,
    )
    _finish_time_axes((axis,), summary, series.start)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def _queues(series: Series, summary: dict[str, Any], path: Path) -> Path:
    """Retries per bucket by system, and the exception and dead-letter queues' depth."""
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, layout="constrained")
    for name in series.retries.columns:
        if series.retries[name].any():
            top.plot(series.retries.index, series.retries[name], color=PALETTE.get(name),
                     linewidth=1.2, label=f"{name} retries")  # fmt: skip
    top.set_ylabel(f"retried calls per {_bucket_name(series)}")
    top.set_title(f"{_title(summary)}: retries, exception queue and dead letters", fontsize=10)
    end = series.start + timedelta(seconds=summary["simulated"]["horizon_s"])
    queues = pd.concat(
        [series.queues, series.queues.tail(1).assign(at=pd.Timestamp(end))], ignore_index=True
    )
    bottom.step(queues["at"], queues["exceptions"], where="post", color=PALETTE["parked"],
                linewidth=1.4, label="exception queue (parked)")  # fmt: skip
    bottom.step(queues["at"], queues["dead_letters"], where="post", color="#000000",
                linewidth=1.4, linestyle="--", label="dead letters")  # fmt: skip
    bottom.set_ylabel("workflows / messages waiting")
    bottom.yaxis.get_major_locator().set_params(integer=True)
    _finish_time_axes((top, bottom), summary, series.start)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def _finish_time_axes(axes: tuple[Any, ...], summary: dict[str, Any], start: datetime) -> None:
    end = start + timedelta(seconds=summary["simulated"]["horizon_s"])
    for axis in axes:
        axis.set_xlim(start, end)
        _shade_faults(axis, summary["faults"], start)
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="upper left", fontsize=8, ncols=3)
    axes[-1].set_xlabel("simulated time (UTC)")
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b\n%H:%M"))  # type: ignore[no-untyped-call]


def _title(summary: dict[str, Any]) -> str:
    return f"{summary['scenario']} × {summary['design']} (seed {summary['seed']})"


def _bucket_name(series: Series) -> str:
    hours = series.bucket_s / HOUR_S
    return "hour" if hours == 1 else f"{hours:g} h"


def _verdict(summary: dict[str, Any], checker: str) -> dict[str, Any] | None:
    return next((v for v in summary["checkers"] if v["checker"] == checker), None)


def _shade_faults(axis: Any, faults: list[dict[str, Any]], start: datetime) -> None:
    labelled: set[tuple[str, str]] = set()
    for fault in faults:
        key = (fault["party"], fault["kind"])
        kind = FAULT_KINDS.get(fault["kind"])  # kinds tell apart by hatching as well as colour
        axis.axvspan(
            start + timedelta(seconds=fault["start_s"]),
            start + timedelta(seconds=fault["end_s"]),
            color=PALETTE.get(fault["party"], "#999999"),
            alpha=kind.shade if kind is not None else 0.35,
            hatch=kind.hatch if kind is not None else None,
            label=None if key in labelled else f"{fault['party']} {fault['kind']}",
        )
        labelled.add(key)


def _billing_to_support(summary: dict[str, Any], path: Path) -> Path | None:
    verdict = _verdict(summary, "billing_to_support")
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
    wrapped = "\n".join(textwrap.wrap(verdict["summary"], 90))  # a long summary is not cut off
    axis.set_title(f"Billing → support window: {verdict['status']}\n{wrapped}", fontsize=9)
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
