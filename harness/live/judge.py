"""A live run judged like a simulated one: the services' and the orchestrator's histories merged
in time order into a run directory, then the scenario's checkers, summary and reports.

The run directory (`<services dir>/loads/<seed>-<time>/` for `syncline load`) then holds the
merged `history.jsonl`, `summary.json` and the reports: `syncline analyze` works on it. The
scenario is judged over the time the services ran (its `duration` becomes the elapsed scenario
time, with no drain), so throughput is per hour of what actually ran; `conform`, which knows when
its workload ended, has the time after that judged as the drain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from harness import checkers
from harness.checkers.base import Checker, Verdict
from harness.history import (
    SCHEMA,
    HistoryWriter,
    PolicyRecord,
    RunEnded,
    RunStarted,
    fan_out,
    from_dict,
)
from harness.live.client import http_client
from harness.metrics import RunMetrics
from harness.runner import RunResult, summarize, write_summary
from harness.scenario import Scenario, parse

#: Where each part of a live setup keeps its history, under the services' directory.
SOURCES = ("history.jsonl", "orchestrator/history.jsonl")


def judge(
    services_dir: Path,
    run_dir: Path,
    sources: list[Path] | None = None,
    design: str = "live",
    reports: bool = True,
    extra_checkers: Sequence[Checker] = (),
    held: Sequence[Mapping[str, Any]] = (),
    unsettled: str | None = None,
    workload_s: float | None = None,
) -> RunResult:
    """Merge `sources` (by default the services' and the orchestrator's histories) into
    `run_dir` and judge them with the scenario in `services_dir`. `held` is what the
    orchestrator's `GET /exceptions` listed at the end: recorded as `held_at_end`, it is where
    operators find parked work (harness/engine/exceptions.py, rule 6). `unsettled` says why the
    integration had not settled when judged: the verdicts that judge at quiescence cannot fail
    then, only be `unknown`. `workload_s` is the scenario time the workload ended: what came
    after is the drain, as in a simulated run, so throughput is judged over the workload."""
    scenario_file = services_dir / "scenario.yaml"
    scenario = parse(
        scenario_file.read_text(encoding="utf-8"), str(scenario_file), strict_units=False
    )
    lines: list[dict[str, Any]] = []
    for path in sources or [services_dir / source for source in SOURCES]:
        if path.is_file():
            with path.open(encoding="utf-8") as found:
                lines += [json.loads(line) for line in found if line.strip()]
    seed = next((int(r["seed"]) for r in lines if r["kind"] == "run_started"), 0)
    events = sorted(
        (r for r in lines if r["kind"] not in ("run_started", "run_ended")),
        key=lambda r: float(r["t"]),
    )
    elapsed = max((float(r["t"]) for r in events), default=1.0)
    duration = max(min(workload_s, elapsed) if workload_s else elapsed, 1.0)
    judged = scenario.model_copy(
        update={"duration": duration, "drain": max(elapsed - duration, 0.0)}
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "scenario.yaml").write_text(judged.to_yaml(), encoding="utf-8")
    built = [*checkers.build(judged), *extra_checkers]
    dispatch, metrics = checkers.Dispatch(built), RunMetrics()
    with HistoryWriter(run_dir / "history.jsonl") as history:
        sink = fan_out((history, dispatch, metrics))
        sink(RunStarted(0.0, scenario.name, design, seed, scenario.start.isoformat(),
                        judged.horizon_s, SCHEMA))  # fmt: skip
        for record in events:
            sink(from_dict(record))
        for workflow, details in held_details(held):
            sink(PolicyRecord(judged.horizon_s, "exceptions", workflow, "held_at_end", details))
        sink(RunEnded(judged.horizon_s))
        count = history.count
    verdicts = tuple(dispatch.verdicts())
    if unsettled is not None:
        verdicts = undecided(verdicts, built)
    faults = _faults(events, judged)
    summary = summarize(judged, design, seed, verdicts, metrics.summary(), faults, count)
    if unsettled is not None:
        summary["unsettled"] = unsettled
    write_summary(run_dir, summary)
    if reports:
        from reports import write_reports  # noqa: PLC0415 - matplotlib only when reporting

        write_reports(run_dir)
    return RunResult(run_dir, summary, verdicts)


def undecided(verdicts: Sequence[Verdict], built: Sequence[Checker]) -> tuple[Verdict, ...]:
    """The verdicts of an integration that has not settled: a failure of a checker that judges
    at quiescence (`at_quiescence`) becomes `unknown`, saying so; the others stand. (Why it has
    not settled goes into summary.json beside them.)"""
    quiescent = {c.name for c in built if getattr(c, "at_quiescence", False)}
    return tuple(
        replace(v, status="unknown", summary=f"not settled, so not judged: {v.summary}")
        if v.checker in quiescent and v.status == "fail"
        else v
        for v in verdicts
    )


def _faults(events: list[dict[str, Any]], scenario: Scenario) -> list[dict[str, Any]]:
    """Fault windows from the start / stop records (one still open ends with the run)."""
    opened: dict[tuple[str, str], float] = {}
    windows = []
    for record in events:
        if record["kind"] != "fault":
            continue
        key = (record["system"], record["fault"])
        if record["phase"] == "start":
            opened[key] = float(record["t"])
        elif key in opened:
            windows.append((key, opened.pop(key), float(record["t"])))
    windows += [(key, start, scenario.horizon_s) for key, start in opened.items()]
    return [
        {"party": party, "kind": kind, "start_s": round(start, 3), "end_s": round(end, 3)}
        for (party, kind), start, end in sorted(windows, key=lambda w: w[1])
    ]


async def read_exceptions(orchestrator: str, admin_token: str) -> list[dict[str, Any]]:
    """What the orchestrator lists at `GET /exceptions` (empty if it serves no such list)."""
    async with http_client(orchestrator, admin_token, timeout=10.0) as client:
        try:
            answer = await client.get("/exceptions")
            listed = answer.json() if answer.status_code == 200 else []
        except (httpx.HTTPError, json.JSONDecodeError):
            listed = []
    return (
        [entry for entry in listed if isinstance(entry, dict)] if isinstance(listed, list) else []
    )


def held_details(listed: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Each listed exception as (workflow, a `held_at_end` record's details), in order."""
    found = []
    for entry in listed:
        workflow = str(entry.get("workflow", ""))
        if not workflow:
            continue
        given = entry.get("keys")
        keys: dict[str, Any] = dict(given) if isinstance(given, dict) else {"quote": workflow}
        details = {"status": str(entry.get("status", "parked")), "code": entry.get("code"), **keys}
        found.append((workflow, {k: v for k, v in details.items() if v is not None}))
    return sorted(found, key=lambda item: item[0])
