"""Lineage: the life of one business object (a quote, contract, order, invoice…) across the
systems, read from a run's history and shown as text and as a swimlane chart.

The records picked are those naming the object, then those naming what it led to: a quote's
contract version, sales order, invoices and their payments (not the whole contract,
subscription or customer, which would pull in every other quote). A call is followed from its
invoke to its answer; the workflow's status changes and the policies' notes come along.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from reports.charts import PALETTE

#: Keys whose values name one object each (a contract or customer names too many).
FOLLOWED = ("quote", "order", "invoice", "credit_memo", "payment", "case")
#: How far lineage is followed: quote -> invoice -> payment -> its ledger entry.
MAX_HOPS = 4
LANES = ("cpq", "orchestrator", "erp", "erp_cloud", "billing", "support", "broker")


@dataclass(frozen=True, slots=True)
class Step:
    t: float
    lane: str
    kind: str  # call | state | event | workflow | policy
    text: str
    outcome: str = ""  # ok | fail | info | invoke, for calls


def trace(run_dir: Path, business_id: str) -> list[Step]:
    """Every step of `business_id`'s life in the run, in time order."""
    history = run_dir / "history.jsonl"
    ids, pairs = _related(history, business_id)
    steps: list[Step] = []
    calls: dict[int, tuple[str, str, int]] = {}  # call id -> system, operation, attempt
    for record in _records(history):
        kind = record["kind"]
        if kind == "call" and record["type"] != "invoke":
            if record["call"] in calls:
                system, operation, attempt = calls.pop(record["call"])
                steps.append(_answer(record, system, operation, attempt))
            continue
        if not _names(record, ids, pairs):
            continue
        if kind == "call":
            calls[record["call"]] = (record["system"], record["operation"], record["attempt"])
            continue
        step = _step(record)
        if step is not None:
            steps.append(step)
    return steps


def render(steps: list[Step], start: datetime, business_id: str) -> str:
    """The trace as text: one line per step, calendar time, lane, what happened."""
    if not steps:
        return f"nothing in this run names {business_id}\n"
    lines = [f"Lineage of {business_id}: {len(steps)} steps"]
    for step in steps:
        at = (start + timedelta(seconds=step.t)).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        lines.append(f"  {at}  {step.lane:<12} {step.text}")
    return "\n".join(lines) + "\n"


def draw(steps: list[Step], start: datetime, business_id: str, path: Path) -> Path:
    """The trace as a swimlane: one row per system, one mark per step."""
    lanes = [lane for lane in LANES if any(s.lane == lane for s in steps)]
    lanes += sorted({s.lane for s in steps} - set(lanes))
    markers = {"ok": "o", "fail": "x", "info": "$?$", "state": "s", "event": "^",
               "workflow": "D", "policy": "P"}  # fmt: skip
    figure, axis = plt.subplots(figsize=(12, 1.2 + 0.7 * len(lanes)), constrained_layout=True)
    for row, lane in enumerate(lanes):
        mine = [s for s in steps if s.lane == lane]
        for key, marker in markers.items():
            chosen = [s for s in mine if (s.outcome or s.kind) == key]
            if chosen:
                hours = [s.t / 3600 for s in chosen]
                colour = "#D55E00" if key == "fail" else PALETTE.get(lane, "#555555")
                axis.scatter(
                    hours, [row] * len(hours), marker=marker, s=48, color=colour, label=key
                )
    axis.set_yticks(range(len(lanes)), lanes)
    axis.invert_yaxis()
    axis.set_xlabel(f"hours since {start:%Y-%m-%d %H:%M} UTC")
    axis.set_title(f"Lineage of {business_id}")
    axis.grid(axis="x", alpha=0.3)
    handles, labels = axis.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))  # one legend entry per kind of mark
    for handle in unique.values():
        handle.set_color("#333333")  # the legend tells marks apart; colours tell lanes apart
    axis.legend(unique.values(), unique.keys(), loc="upper right", fontsize=8, ncols=4)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _records(history: Path) -> Iterator[dict[str, Any]]:
    with history.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _related(history: Path, business_id: str) -> tuple[set[str], set[tuple[str, int]]]:
    """The ids the object led to (a quote's invoices, then their payments…), and its contract
    versions: the records naming it, followed until nothing new turns up (a few passes)."""
    ids, pairs = {business_id}, set()
    for _ in range(MAX_HOPS):
        known = len(ids)
        for record in _records(history):
            keys = record.get("keys") or {}
            named = {str(keys[k]) for k in FOLLOWED if k in keys}
            if business_id not in (*map(str, keys.values()), record.get("workflow")) and not (
                named & ids
            ):
                continue
            ids |= named
            direct = business_id in map(str, keys.values())
            if direct and "contract" in keys and "contract_version" in keys:
                pairs.add((str(keys["contract"]), int(keys["contract_version"])))
        if len(ids) == known:
            break
    return ids, pairs


def _names(record: dict[str, Any], ids: set[str], pairs: set[tuple[str, int]]) -> bool:
    keys = record.get("keys") or {}
    if any(str(keys[k]) in ids for k in FOLLOWED if k in keys):
        return True
    if (str(keys.get("contract")), int(keys.get("contract_version", -1))) in pairs:
        return True
    return record.get("workflow") in ids or record.get("subject") in ids


def _answer(record: dict[str, Any], system: str, operation: str, attempt: int) -> Step:
    outcome = record["type"]
    detail = {"ok": "ok", "fail": f"failed: {record.get('error_code')}",
              "info": f"no answer: {record.get('error_code')}"}[outcome]  # fmt: skip
    retry = f" (attempt {attempt})" if attempt > 1 else ""
    latency = f" in {record['latency']:.2f}s" if "latency" in record else ""
    return Step(record["t"], system, "call", f"{operation}{retry} {detail}{latency}", outcome)


def _step(record: dict[str, Any]) -> Step | None:
    kind, t = record["kind"], record["t"]
    if kind == "state":
        version = record["keys"].get("contract_version")
        at = f" v{version}" if version is not None else ""
        text = f"{record['entity']} {record['entity_id']} {record['change']}{at}"
        return Step(t, record["system"], "state", text)
    if kind == "event":
        copy = f" (copy {record['delivery']})" if record.get("delivery", 0) > 1 else ""
        lane = "broker" if record["system"].startswith("broker") else record["system"]
        text = f"{record['event_type']} {record['type']}{copy}"
        return Step(t, lane, "event", text)
    if kind == "workflow":
        reason = f": {record['reason']}" if record.get("reason") else ""
        text = f"workflow {record['workflow']} {record['status']}{reason}"
        return Step(t, "orchestrator", "workflow", text)
    if kind == "policy":
        return Step(t, "orchestrator", "policy", f"{record['policy']}: {record['event']}")
    return None
