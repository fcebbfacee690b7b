"""Charts of a run, drawn from its directory: matplotlib, no display, colour-blind-safe colours.

- `timeline.png`: calls and failures per hour for each system, and quotes approved / completed
  / parked per hour, with every fault window shaded and labelled.
- `billing_to_support.png`: the distribution (CDF) of the billing -> support consistency
  window, with the SLO lines.
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
