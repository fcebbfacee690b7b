"""One run: `run(scenario, design, seed) -> RunResult`, and the run directory it leaves.

    runs/<scenario>/<design>/<seed>-<UTC time>/
        scenario.yaml   the scenario as resolved (defaults filled in)
        history.jsonl   every record, streamed while the simulation runs
        summary.json    verdicts and figures; no wall-clock value, so same seed => same bytes
        report.md       the result for people and pull requests
        charts/*.png
    runs/latest -> the newest run directory

Checkers run as the history is written (one pass), and again over the stored file with
`syncline analyze`; both give the same verdicts.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import aside as judging_aside
from harness import checkers
from harness.checkers.base import Status, Verdict
from harness.designs import Design, DesignError, DesignFactory, instantiate, load_factory
from harness.faults import with_swarm
from harness.history import HistoryWriter, Sink, fan_out
from harness.metrics import RunMetrics
from harness.scenario import Scenario
from harness.sim.runtime import Progress, Simulation

SUMMARY_SCHEMA = "syncline.summary/1"
EXIT_CODES: dict[Status, int] = {"pass": 0, "fail": 1, "unknown": 3}


@dataclass(frozen=True)
class RunResult:
    """What a run leaves: small and picklable, so sweeps can return it from worker processes.

    `run_dir` the run directory (history.jsonl, summary.json, reports); `summary` summary.json's
    content (scenario, design, seed, status, every checker's figures, per-system metrics,
    faults); `verdicts` one `Verdict` per checker (`checker`, `status` pass/fail/unknown,
    `summary`, `figures`, `slo`, `evidence`). `status`, `passed` and `exit_code` compose them;
    `explain()` says why a run did not pass, for a person.
    """

    run_dir: Path
    summary: dict[str, Any]
    verdicts: tuple[Verdict, ...]

    @property
    def status(self) -> Status:
        return checkers.worst(v.status for v in self.verdicts)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def explain(self) -> str:
        """The result for a person: the verdict, each checker that did not pass, the run."""
        summary = self.summary
        lines = [
            f"{summary['scenario']} × {summary['design']}, seed {summary['seed']}: "
            f"{self.status.upper()}"
        ]
        lines += [
            f"  {v.checker} {v.status}: {v.summary}" for v in self.verdicts if v.status != "pass"
        ]
        lines.append(f"  run directory: {self.run_dir}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        summary = self.summary
        failing = ", ".join(v.checker for v in self.verdicts if v.status != "pass") or "-"
        return (
            f"<RunResult {summary['scenario']} × {summary['design']}, seed {summary['seed']}: "
            f"{self.status.upper()} (not passing: {failing}) in {self.run_dir}>"
        )


def resolve_design(
    design: str | DesignFactory, options: Mapping[str, Mapping[str, Any]] | None = None
) -> DesignFactory:
    """A checked factory of fresh designs, from a shipped name, a `module:factory` path, or a
    factory; it is called once now (so a bad plugin fails before the run) and again for every
    orchestrator restart. `options` (the scenario's `designs:`) are passed to the factory of
    the design they name."""
    if isinstance(design, str):
        label, factory = load_factory(design)
    else:
        label, factory = getattr(design, "__name__", repr(design)), design
    given = dict((options or {}).get(label, {}))
    if given:
        factory = _with_options(factory, label, given)
    instantiate(factory, label)

    def fresh() -> Design:
        return instantiate(factory, label)

    return fresh


def _with_options(factory: DesignFactory, label: str, options: dict[str, Any]) -> DesignFactory:
    def configured() -> Design:
        try:
            return factory(**options)
        except TypeError as error:
            raise DesignError(
                f"design {label} refused the options `designs.{label}` gives it: {error}"
            ) from None
        except ValueError as error:
            raise DesignError(f"design {label}: bad option: {error}") from None

    return configured


def run(
    scenario: Scenario,
    design: str | DesignFactory = "reference",
    seed: int = 0,
    out: Path = Path("runs"),
    progress: Progress | None = None,
    reports: Callable[[Path], object] | None = None,
    swarm: bool = False,
    run_dir: Path | None = None,
) -> RunResult:
    """Simulate `scenario` against `design` with `seed`; write and return the run.

    With `swarm`, a fault profile drawn from the seed is added to the scenario's faults; the
    run directory's `scenario.yaml` holds it, so running that file replays the run exactly.
    The run goes to a new directory under `out` (and `out/latest` points at it), or exactly
    to `run_dir` when one is given (a comparison places its runs itself).
    """
    factory = resolve_design(design, scenario.designs)
    if swarm:
        scenario = with_swarm(scenario, seed)
    name = factory().name
    placed = run_dir is not None
    if run_dir is None:
        run_dir = _new_run_dir(out, scenario.name, name, seed)
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "scenario.yaml").write_text(scenario.to_yaml(), encoding="utf-8")
    verdicts, summary = simulate(scenario, factory, seed, run_dir / "history.jsonl", progress)
    if isinstance(design, str):  # how to load the design again (`syncline shrink`)
        summary["design_spec"] = design
    write_summary(run_dir, summary)
    if reports is not None:
        reports(run_dir)
    if not placed:
        point_latest(out, run_dir)
    return RunResult(run_dir, summary, verdicts)


def simulate(
    scenario: Scenario,
    factory: DesignFactory,
    seed: int,
    history_file: Path | None = None,
    progress: Progress | None = None,
    aside: bool | None = None,
    only: Collection[str] | None = None,
) -> tuple[tuple[Verdict, ...], dict[str, Any]]:
    """Simulate and judge one run: (verdicts, summary.json's content). Checkers and metrics
    fold the history as it is made, so memory follows the live workflows, not the run's length;
    the history is streamed to `history_file`, or kept nowhere (a sweep's runs) without one.
    With `aside` (by default when `harness.aside.wanted()`), a run with a history file is
    written and judged in a second process (harness/aside.py), with the same bytes. With
    `only`, only the checkers of those names judge (`checkers.build`), in this process."""
    if aside is None:
        aside = history_file is not None and judging_aside.wanted()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_young_objects_die_young())
        if aside and history_file is not None and only is None:
            judge = stack.enter_context(judging_aside.JudgeAside(scenario, history_file))
            simulation = Simulation(scenario, factory, seed, judge, progress)
            simulation.run()
            judged = judge.finish()
            verdicts, metrics, records = tuple(judged.verdicts), judged.metrics, judged.records
        else:
            dispatch = checkers.Dispatch(checkers.build(scenario, only))
            counted = RunMetrics()
            sinks: list[Sink] = [dispatch, counted]
            if history_file is not None:
                sinks.insert(0, stack.enter_context(HistoryWriter(history_file)))
            simulation = Simulation(scenario, factory, seed, fan_out(sinks), progress)
            simulation.run()
            verdicts, metrics = tuple(dispatch.verdicts()), counted.summary()
            records = dispatch.position
    faults = [
        {
            "party": w.party,
            "kind": w.kind,
            "start_s": round(w.start, 3),
            "end_s": round(min(w.end, scenario.horizon_s), 3),
            **({"params": dict(w.params)} if w.params else {}),
        }
        for w in simulation.schedule.windows
    ]
    summary = summarize(scenario, simulation.design.name, seed, verdicts, metrics, faults,
                        records, history_file.name if history_file else None)  # fmt: skip
    return verdicts, summary


@contextlib.contextmanager
def _young_objects_die_young() -> Iterator[None]:
    """Collect the youngest generation every 100,000 allocations instead of 700 while a run
    simulates: its records, effects and events die young, and the collector's passes over them
    were 6 % of a month-long run. The thresholds are put back afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def summarize(
    scenario: Scenario,
    design: str,
    seed: int,
    verdicts: Sequence[Verdict],
    metrics: Mapping[str, Any],
    faults: list[dict[str, Any]],
    records: int,
    history_file: str | None = "history.jsonl",
) -> dict[str, Any]:
    """`summary.json`'s content: verdicts first, then what the run went through (`metrics`
    is `RunMetrics.summary()`)."""
    return {
        "schema": SUMMARY_SCHEMA,
        "scenario": scenario.name,
        "description": " ".join(scenario.description.split()),
        "design": design,
        "seed": seed,
        "status": checkers.worst(v.status for v in verdicts),
        "simulated": {
            "start": scenario.start.isoformat(),
            "duration_s": scenario.duration,
            "horizon_s": scenario.horizon_s,
        },
        "checkers": [v.as_dict() for v in verdicts],
        **metrics,
        "faults": faults,
        "history": {"file": history_file, "records": records},
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    text = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    (run_dir / "summary.json").write_text(text, encoding="utf-8")


def _new_run_dir(out: Path, scenario: str, design: str, seed: int) -> Path:
    return new_directory(out / scenario / design, seed)


def new_directory(parent: Path, seed: int | None = None) -> Path:
    """A fresh `<seed>-<UTC time>` directory under `parent` (`<UTC time>` without a seed),
    numbered if taken."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    parent.mkdir(parents=True, exist_ok=True)
    base = stamp if seed is None else f"{seed}-{stamp}"
    candidate, number = parent / base, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            number += 1
            candidate = parent / f"{base}-{number}"


def point_latest(out: Path, run_dir: Path, name: str = "latest") -> None:
    """Point `out/latest` (or `out/<name>`) at the run, replacing the link atomically."""
    link = out / name
    temporary = out / f".{name}-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(run_dir.relative_to(out), target_is_directory=True)
    os.replace(temporary, link)


def point_live(out: Path, services_dir: Path) -> None:
    """Point `out/live` at the newest live services' directory."""
    point_latest(out, services_dir, "live")
