"""Lineage: the life of one business object (a quote, contract, order, invoice…) across the
systems, read from a run's history and shown as text and as a swimlane chart.

The records picked are those naming the object, then those naming what it led to: a quote's
contract version, sales order, invoices and their payments (not the whole contract,
subscription or customer, which would pull in every other quote). A call is followed from its
invoke to its answer; the workflow's status changes and the policies' notes come along.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from reports.charts import PALETTE
from reports.evidence import SHOWN, traceable_id

#: Keys whose values name one object each (a contract or customer names too many).
FOLLOWED = ("quote", "order", "invoice", "credit_memo", "payment", "case")
#: How far lineage is followed: quote -> invoice -> payment -> its ledger entry.
MAX_HOPS = 4
LANES = ("cpq", "orchestrator", "erp", "erp_cloud", "billing", "support", "broker")
#: How each kind of step is marked; a failed or unanswered call is also drawn in vermilion.
MARKERS = {"ok": "o", "fail": "X", "info": "$?$", "invoke": "o", "state": "s", "event": "^",
           "workflow": "D", "policy": "P"}  # fmt: skip
#: Steps drawn at most (the text trace has them all), and the pause marked by a dashed rule.
MAX_DRAWN_STEPS = 80
PAUSE_S = 1800.0
#: Evidence keys that name something `syncline trace` can follow, in order of preference.
#: How many of a failed checker's evidence items a report draws, and how many in all.
DRAWN_PER_CHECKER = 1
DRAWN_AT_MOST = 8


@dataclass(frozen=True, slots=True)
class Step:
    t: float
    lane: str
    kind: str  # call | state | event | workflow | policy
    text: str
    outcome: str = ""  # ok | fail | info | invoke, for calls


def trace(run_dir: Path, business_id: str) -> list[Step]:
    """Every step of `business_id`'s life in the run, in time order."""
    return trace_many(run_dir, [business_id])[business_id]


def trace_many(run_dir: Path, business_ids: list[str]) -> dict[str, list[Step]]:
    """The lives of several objects, read in two passes over the history: one to find what
    names them, one to read those records and the answers to their calls."""
    history = run_dir / "history.jsonl"
    mentions = _mentions(history)
    related = _related(mentions, business_ids)
    owners_at: dict[int, list[str]] = {}
    for mention in mentions:
        for business_id, (ids, pairs) in related.items():
            if mention.names(ids, pairs):
                owners_at.setdefault(mention.position, []).append(business_id)
    steps: dict[str, list[Step]] = {business_id: [] for business_id in business_ids}
    calls: dict[int, tuple[str, str, int, list[str]]] = {}  # call id -> ..., who it is for
    for position, record in _records(history, owners_at, answers_to=calls):
        if record["kind"] == "call" and record["type"] != "invoke":
            system, operation, attempt, owners = calls.pop(record["call"])
            answer = _answer(record, system, operation, attempt)
            for owner in owners:
                steps[owner].append(answer)
            continue
        owners = owners_at[position]
        if record["kind"] == "call":
            calls[record["call"]] = (
                record["system"], record["operation"], record["attempt"], owners,
            )  # fmt: skip
            continue
        step = _step(record)
        if step is not None:
            for owner in owners:
                steps[owner].append(step)
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
    """The trace as a swimlane read top to bottom: a column per system, a row per step with its
    time on the left and what happened on the right; a grey line follows the work from system
    to system, and a dashed rule marks a pause of over half an hour."""
    shown = steps[:MAX_DRAWN_STEPS]
    lanes = [lane for lane in LANES if any(s.lane == lane for s in shown)]
    lanes += sorted({s.lane for s in shown} - set(lanes))
    column = {lane: index for index, lane in enumerate(lanes)}
    rows = len(shown)
    lane_width, left, text_width, row_height = 0.8, 1.7, 5.6, 0.24
    width = left + lane_width * len(lanes) + text_width
    height = 1.0 + row_height * max(rows, 3)
    figure = plt.figure(figsize=(width, height))
    axis = figure.add_axes((
        left / width, 0.25 / height, lane_width * len(lanes) / width, (height - 0.95) / height
    ))  # fmt: skip
    axis.plot([column[s.lane] for s in shown], range(rows), color="#BBBBBB", linewidth=0.8,
              zorder=1)  # fmt: skip
    for row, step in enumerate(shown):
        key = step.outcome or step.kind
        failed = key in ("fail", "info")
        colour = "#D55E00" if failed else PALETTE.get(step.lane, "#555555")
        axis.scatter(column[step.lane], row, marker=MARKERS.get(key, "o"), s=36, color=colour,
                     zorder=2)  # fmt: skip
        axis.text(len(lanes) - 0.3, row, step.text[:96], va="center", fontsize=7.5,
                  color="#8A2A06" if failed else "#222222", clip_on=False)  # fmt: skip
        if row and step.t - shown[row - 1].t > PAUSE_S:
            axis.axhline(row - 0.5, color="#777777", linestyle="--", linewidth=0.7)
    times = [f"{start + timedelta(seconds=s.t):%a %d %b %H:%M:%S}" for s in shown]
    axis.set_yticks(range(rows), times, fontsize=7.5)
    axis.set_ylim(rows - 0.5, -0.5)
    axis.set_xlim(-0.5, len(lanes) - 0.5)
    axis.set_xticks(range(len(lanes)), lanes, fontsize=8.5)
    axis.xaxis.tick_top()
    axis.grid(axis="x", color="#E5E5E5")
    for side in ("right", "bottom"):
        axis.spines[side].set_visible(False)
    more = f" (the first {rows} shown)" if len(steps) > rows else ""
    figure.suptitle(f"Lineage of {business_id}: {len(steps)} steps{more}", x=0.02, ha="left",
                    y=1 - 0.12 / height, va="top", fontsize=11)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path


def trace_path(run_dir: Path, business_id: str) -> Path:
    """Where a run keeps the drawn trace of `business_id` (a file name safe for any id)."""
    return run_dir / "traces" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', business_id)}.png"


@dataclass(frozen=True, slots=True)
class DrawnTrace:
    path: Path  # the swimlane, in the run's traces/
    text: str  # the same steps as `syncline trace` prints them


def draw_evidence(run_dir: Path, summary: Mapping[str, Any]) -> dict[str, DrawnTrace]:
    """Draw the traces of the first evidence items of each failed checker, for the reports to
    link; return business id -> its drawn trace."""
    wanted: list[str] = []
    for verdict in summary["checkers"]:
        if verdict["status"] == "pass":
            continue
        shown = verdict["evidence"][:SHOWN]  # only what the reports show, and so link
        ids = [i for i in map(traceable_id, shown) if i and i not in wanted]
        wanted += list(dict.fromkeys(ids))[:DRAWN_PER_CHECKER]
    wanted = wanted[:DRAWN_AT_MOST]
    if not wanted:
        return {}
    start = datetime.fromisoformat(summary["simulated"]["start"])
    return {
        business_id: DrawnTrace(
            draw(steps, start, business_id, trace_path(run_dir, business_id)),
            render(steps, start, business_id),
        )
        for business_id, steps in trace_many(run_dir, wanted).items()
        if steps
    }


@dataclass(frozen=True, slots=True)
class _Mention:
    """What one history record names, kept in memory between the passes."""

    position: int
    values: frozenset[str]  # every business key's value, and the workflow
    followed: frozenset[str]  # the values of the FOLLOWED keys
    version: tuple[str, int] | None  # (contract, contract_version)
    workflow: str | None
    subject: str | None

    def names(self, ids: set[str], pairs: set[tuple[str, int]]) -> bool:
        return (
            not self.followed.isdisjoint(ids)
            or self.version in pairs
            or self.workflow in ids
            or self.subject in ids
        )


def _mentions(history: Path) -> list[_Mention]:
    found = []
    with history.open(encoding="utf-8") as lines:
        for position, line in enumerate(lines):
            if line.startswith(_CALL) and _INVOKE not in line:
                continue  # an answer names nothing: it is found by its call id
            record = json.loads(line)
            keys = record.get("keys") or {}
            workflow, subject = record.get("workflow"), record.get("subject")
            if not keys and workflow is None and subject is None:
                continue
            version = None
            if "contract" in keys and "contract_version" in keys:
                version = (str(keys["contract"]), int(keys["contract_version"]))
            found.append(
                _Mention(
                    position,
                    frozenset({*map(str, keys.values()), *([workflow] if workflow else [])}),
                    frozenset(str(keys[k]) for k in FOLLOWED if k in keys),
                    version, workflow, subject,
                )
            )  # fmt: skip
    return found


def _records(
    history: Path, positions: Mapping[int, object], answers_to: Mapping[int, object]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The records at `positions`, and the answers to the calls in `answers_to` (which grows
    as the invokes are read)."""
    with history.open(encoding="utf-8") as lines:
        for position, line in enumerate(lines):
            if position in positions:
                yield position, json.loads(line)
            elif answers_to and line.startswith(_CALL) and _INVOKE not in line:
                found = _CALL_ID.search(line)
                if found is not None and int(found[1]) in answers_to:
                    yield position, json.loads(line)


_CALL = '{"kind":"call"'
_INVOKE = '"type":"invoke"'
_CALL_ID = re.compile(r'"call":(\d+)')

Related = tuple[set[str], set[tuple[str, int]]]


def _related(mentions: list[_Mention], business_ids: list[str]) -> dict[str, Related]:
    """For each object, the ids it led to (a quote's invoices, then their payments…) and its
    contract versions: the records naming it, followed until nothing new turns up."""
    found: dict[str, Related] = {b: ({b}, set()) for b in business_ids}
    for _ in range(MAX_HOPS):
        known = sum(len(ids) for ids, _ in found.values())
        for mention in mentions:
            for business_id, (ids, pairs) in found.items():
                direct = business_id in mention.values
                if not direct and mention.followed.isdisjoint(ids):
                    continue
                ids.update(mention.followed)
                if direct and mention.version is not None:
                    pairs.add(mention.version)
        if sum(len(ids) for ids, _ in found.values()) == known:
            break
    return found


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
