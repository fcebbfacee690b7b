"""Series over time, read from a run's history in one pass, as pandas tables for the charts.

- traffic: calls, failures (fail or info answers) and retries per system per bucket; quotes
  approved, completed and parked per bucket;
- end-to-end latency: one row per contract version that reached ERP, billing and support, with
  when its quote was approved (measured by the `end_to_end` checker's own rules);
- queue depths: how many workflows sat in the business exception queue and how many in a
  dead-letter queue (the design's, or the broker's per consumer group) after each change.

A bucket is an hour for runs up to ten days, longer beyond, so a chart keeps about 240 points.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from harness.checkers.end_to_end import EndToEnd
from harness.history import from_dict

HOUR_S = 3600.0
MAX_BUCKETS = 240


@dataclass(frozen=True, slots=True)
class Series:
    start: datetime
    bucket_s: float
    calls: pd.DataFrame  # bucket start (UTC) x system
    failures: pd.DataFrame  # bucket start x system
    retries: pd.DataFrame  # bucket start x system: invokes with attempt > 1
    quotes: pd.DataFrame  # bucket start x approved | completed | parked
    latency: pd.DataFrame  # approved (UTC), latency_s: one row per completed contract version
    queues: pd.DataFrame  # at (UTC), exceptions, dead_letters: after each change of depth

    def latency_percentiles(self, buckets: int = 4) -> pd.DataFrame:
        """p50, p95 and max end-to-end latency (seconds) of the quotes approved in each window
        of `buckets` buckets; windows with no completed quote are left out."""
        if self.latency.empty:
            return pd.DataFrame(columns=["p50", "p95", "max"], dtype=float)
        window = pd.Timedelta(seconds=self.bucket_s * buckets)
        grouped = self.latency.groupby(self.latency["approved"].dt.floor(window))["latency_s"]
        return pd.DataFrame(
            {"p50": grouped.quantile(0.5), "p95": grouped.quantile(0.95), "max": grouped.max()}
        )


def bucket_seconds(horizon_s: float) -> float:
    hours = max(1, -(-horizon_s // (HOUR_S * MAX_BUCKETS)))  # ceil, in whole hours
    return float(hours * HOUR_S)


def read_series(run_dir: Path, summary: dict[str, Any]) -> Series:
    start = datetime.fromisoformat(summary["simulated"]["start"])
    horizon = float(summary["simulated"]["horizon_s"])
    bucket_s = bucket_seconds(horizon)
    last = int(horizon // bucket_s)
    calls: Counter[tuple[int, str]] = Counter()
    failures: Counter[tuple[int, str]] = Counter()
    retries: Counter[tuple[int, str]] = Counter()
    quotes: Counter[tuple[int, str]] = Counter()
    depth = _QueueDepth()
    # the systems the business does without (`cpq: null`): its inputs come from billing then
    absent = tuple(name for name in ("cpq", "erp") if name not in summary["systems"])
    end_to_end = EndToEnd(absent=absent)
    inputs = end_to_end.inputs.types  # CPQ's approvals, or billing's changes without CPQ
    sources = ("cpq",) if end_to_end.inputs.from_cpq else ("billing",)
    with (run_dir / "history.jsonl").open(encoding="utf-8") as lines:
        for position, line in enumerate(lines):
            record = json.loads(line)
            kind = record["kind"]
            index = min(int(record["t"] // bucket_s), last)
            if kind == "call":
                system, answer = record["system"], record["type"]
                if answer == "invoke":
                    calls[index, system] += 1
                    if record.get("attempt", 1) > 1:
                        retries[index, system] += 1
                elif answer in ("fail", "info"):
                    failures[index, system] += 1
                continue
            if kind in ("event", "state"):
                if kind == "event" and record["type"] == "emitted":
                    if record["event_type"] in inputs and record["system"] in sources:
                        quotes[index, "approved"] += 1
                elif kind == "event" and record["type"] == "dead_lettered":
                    depth.broker_dead_letter(record)
                end_to_end.observe(position, from_dict(record))
            elif kind == "workflow":
                depth.workflow(record)
                # quotes only: a design's other workflows (ledger postings, say) are not quotes
                if record["status"] in ("completed", "parked") and (
                    record["keys"].get("quote") == record["workflow"]
                ):
                    quotes[index, record["status"]] += 1
            elif kind == "policy":
                depth.policy(record)
    buckets = pd.DatetimeIndex(
        [start + timedelta(seconds=i * bucket_s) for i in range(last + 1)], name="bucket"
    )
    systems = sorted(summary["systems"])
    return Series(
        start=start,
        bucket_s=bucket_s,
        calls=_table(calls, buckets, systems),
        failures=_table(failures, buckets, systems),
        retries=_table(retries, buckets, systems),
        quotes=_table(quotes, buckets, ["approved", "completed", "parked"]),
        latency=pd.DataFrame(
            {
                "approved": pd.to_datetime(
                    [start + timedelta(seconds=at) for at in end_to_end.approved_at], utc=True
                ),
                "latency_s": list(end_to_end.latencies),
            }
        ),
        queues=pd.DataFrame(
            {
                "at": pd.to_datetime(
                    [start + timedelta(seconds=t) for t, _, _ in depth.points], utc=True
                ),
                "exceptions": [e for _, e, _ in depth.points],
                "dead_letters": [d for _, _, d in depth.points],
            }
        ),
    )


def _table(
    counts: Counter[tuple[int, str]], buckets: pd.DatetimeIndex, columns: list[str]
) -> pd.DataFrame:
    data = {column: [0] * len(buckets) for column in columns}
    for (index, column), count in counts.items():
        if column in data:
            data[column][index] = count
    return pd.DataFrame(data, index=buckets)


class _QueueDepth:
    """Exception-queue and dead-letter depths after each change, from workflow statuses and the
    broker's dead letters (a broker dead letter leaves when operations replay it)."""

    def __init__(self) -> None:
        self.parked: set[str] = set()
        self.dead: set[str] = set()
        self.broker_dead: set[str] = set()
        self.points: list[tuple[float, int, int]] = [(0.0, 0, 0)]

    def workflow(self, record: dict[str, Any]) -> None:
        workflow, status = record["workflow"], record["status"]
        for queue, kept in ((self.parked, "parked"), (self.dead, "dead_lettered")):
            if status == kept:
                queue.add(workflow)
            else:
                queue.discard(workflow)
        self._mark(record["t"])

    def broker_dead_letter(self, record: dict[str, Any]) -> None:
        self.broker_dead.add(f"{record['system']}:{record['event_id']}")
        self._mark(record["t"])

    def policy(self, record: dict[str, Any]) -> None:
        event = record["event"]
        if record["policy"] == "operations" and event.startswith("broker.replay:"):
            group = event.removeprefix("broker.replay:")
            self.broker_dead.discard(f"broker/{group}:{record['subject']}")
            self._mark(record["t"])

    def _mark(self, t: float) -> None:
        point = (t, len(self.parked), len(self.dead) + len(self.broker_dead))
        if point[1:] != self.points[-1][1:]:
            self.points.append(point)
