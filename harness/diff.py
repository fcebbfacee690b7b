"""`syncline diff`: what changed between two results — the question CI asks after every change.

The two directories are runs, comparisons (each design's run), gates (each scenario's run) or
sweeps and swarms (their aggregates), of the same kind.

Rules:
1. A verdict that got worse (pass → fail or unknown, unknown → fail) is a regression; one that
   got better is an improvement; a checker in only one run is named.
2. Figures are compared checker by checker. A run is deterministic (same scenario, seed and
   code ⇒ same bytes), so between two runs of the same scenario and seed any moved figure is a
   real change, reported with both values and the relative move. Between runs of different
   seeds the noise of one run is unknown: figures are listed but never judged (a sweep's
   intervals are the way to judge them).
3. Only regressions decide the exit code (1); moved figures inform.
4. A comparison or a gate is diffed run by run, matched by design or scenario; a run in only
   one of them is named.
5. A sweep is judged by its intervals: a point's pass rate (of the whole run, or of one checker)
   whose 95 % interval lies wholly below the baseline's is a regression, wholly above an
   improvement; a figure whose interval no longer overlaps the baseline's has moved.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: How bad a status is, for rule 1.
SEVERITY = {"pass": 0, "unknown": 1, "fail": 2}


class NotARun(Exception):
    """A directory without a run's summary.json; the message says so."""


@dataclass(frozen=True, slots=True)
class VerdictChange:
    checker: str
    before: str | None  # None: the checker is not in that run
    after: str | None

    @property
    def regression(self) -> bool:
        if self.before is None or self.after is None:
            return False
        return SEVERITY.get(self.after, 2) > SEVERITY.get(self.before, 2)


@dataclass(frozen=True, slots=True)
class FigureMove:
    checker: str
    figure: str
    before: float
    after: float

    @property
    def relative(self) -> float | None:
        """(after - before) / |before|; None when before is 0."""
        return None if self.before == 0 else (self.after - self.before) / abs(self.before)


@dataclass
class RunDiff:
    before: Path
    after: Path
    comparable: bool  # same scenario and seed: moved figures are real (rule 2)
    verdicts: list[VerdictChange] = field(default_factory=list)
    figures: list[FigureMove] = field(default_factory=list)

    @property
    def regressions(self) -> list[VerdictChange]:
        return [change for change in self.verdicts if change.regression]

    def to_json(self) -> dict[str, Any]:
        return {
            "before": str(self.before), "after": str(self.after), "comparable": self.comparable,
            "regressions": len(self.regressions),
            "verdicts": [{**asdict(v), "regression": v.regression} for v in self.verdicts],
            "figures": [{**asdict(f), "relative": f.relative} for f in self.figures],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class IntervalChange:
    """A sweep point's pass rate or figure whose interval left the baseline's (rule 5)."""

    point: str
    measure: str  # `passed`, `checker effect_once`, or a figure's name
    before: tuple[float, float, float]  # value, interval low, interval high
    after: tuple[float, float, float]
    rate: bool  # a pass rate (judged) rather than a figure (informs)

    @property
    def regression(self) -> bool:
        return self.rate and self.after[2] < self.before[1]


@dataclass
class Diff:
    """Two result directories of one kind, diffed run by run (or point by point)."""

    kind: str  # run | comparison | gate | sweep
    before: Path
    after: Path
    runs: dict[str, RunDiff] = field(default_factory=dict)  # by design or scenario ("" a run)
    only_before: list[str] = field(default_factory=list)
    only_after: list[str] = field(default_factory=list)
    intervals: list[IntervalChange] = field(default_factory=list)

    @property
    def regressions(self) -> int:
        found = sum(len(run.regressions) for run in self.runs.values())
        return found + sum(change.regression for change in self.intervals)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "before": str(self.before), "after": str(self.after),
            "regressions": self.regressions,
            "runs": {label: run.to_json() for label, run in self.runs.items()},
            "only_before": self.only_before, "only_after": self.only_after,
            "intervals": [
                {**asdict(change), "regression": change.regression}
                for change in self.intervals
            ],
        }  # fmt: skip


def kind_of(directory: Path) -> str:
    """What a directory holds (rule 4, 5), or NotARun."""
    if not directory.is_dir():
        raise NotARun(f"{directory} is not a directory")
    if (directory / "summary.json").is_file():
        return "run"
    if (directory / "comparison.json").is_file():
        return "comparison"
    if (directory / "aggregates.json").is_file():
        return "sweep"
    if (directory / "gate.json").is_file() or (directory / "junit.xml").is_file():
        return "gate"
    raise NotARun(
        f"{directory} holds no result: give a run directory (summary.json), a comparison "
        "(comparison.json), a gate (junit.xml) or a sweep or swarm (aggregates.json)"
    )


def diff(before: Path, after: Path) -> Diff:
    kinds = kind_of(before), kind_of(after)
    if kinds[0] != kinds[1]:
        raise NotARun(f"cannot diff a {kinds[0]} ({before}) with a {kinds[1]} ({after})")
    found = Diff(kinds[0], before, after)
    if found.kind == "run":
        found.runs[""] = diff_runs(before, after)
    elif found.kind == "sweep":
        found.intervals = _sweep_changes(before, after)
    else:
        old, new = _child_runs(before), _child_runs(after)
        found.only_before = sorted(set(old) - set(new))
        found.only_after = sorted(set(new) - set(old))
        for label in sorted(set(old) & set(new)):
            found.runs[label] = diff_runs(old[label], new[label])
    return found


def _child_runs(directory: Path) -> dict[str, Path]:
    """A comparison's or a gate's run directories, by design or scenario."""
    return {
        child.name: child
        for child in sorted(directory.iterdir())
        if child.is_dir() and (child / "summary.json").is_file()
    }


def _sweep_changes(before: Path, after: Path) -> list[IntervalChange]:
    old, new = _aggregates(before), _aggregates(after)
    changes = []
    for label, point in new.items():
        was = old.get(label)
        if was is None:
            continue
        rates = [("passed", was.get("passed"), point.get("passed"))]
        rates += [
            (f"checker {name}", was.get("checkers", {}).get(name), rate)
            for name, rate in point.get("checkers", {}).items()
        ]
        for measure, a, b in rates:
            change = _interval_change(label, measure, a, b, "rate", rate=True)
            if change is not None:
                changes.append(change)
        for name, figure in point.get("figures", {}).items():
            change = _interval_change(
                label, name, was.get("figures", {}).get(name), figure, "mean", rate=False
            )
            if change is not None:
                changes.append(change)
    return changes


def _interval_change(
    point: str, measure: str, was: Any, now: Any, value: str, rate: bool
) -> IntervalChange | None:
    if not (isinstance(was, dict) and isinstance(now, dict)):
        return None
    try:
        a = (float(was[value]), float(was["ci_low"]), float(was["ci_high"]))
        b = (float(now[value]), float(now["ci_low"]), float(now["ci_high"]))
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(x) for x in (*a, *b)):
        return None
    if b[2] < a[1] or b[1] > a[2]:  # the intervals do not overlap
        return IntervalChange(point, measure, a, b, rate)
    return None


def _aggregates(directory: Path) -> dict[str, dict[str, Any]]:
    path = directory / "aggregates.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as broken:
        raise NotARun(f"{path} cannot be read ({broken})") from None
    return {str(point.get("label", point.get("index"))): point for point in data.get("points", [])}


def read_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "summary.json"
    if not path.is_file():
        raise NotARun(f"{run_dir} is not a run directory: summary.json is missing")
    try:
        summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as broken:
        raise NotARun(f"{path} is not JSON ({broken})") from None
    if not isinstance(summary.get("checkers"), list):
        raise NotARun(f"{path} holds no verdicts: is it a run's summary?")
    return summary


def diff_runs(before_dir: Path, after_dir: Path) -> RunDiff:
    before, after = read_summary(before_dir), read_summary(after_dir)
    comparable = all(before.get(key) == after.get(key) for key in ("scenario", "seed"))
    found = RunDiff(before_dir, after_dir, comparable)
    old = {v["checker"]: v for v in before["checkers"]}
    new = {v["checker"]: v for v in after["checkers"]}
    for name in [*old, *(n for n in new if n not in old)]:
        was, now = old.get(name), new.get(name)
        status_was = was["status"] if was else None
        status_now = now["status"] if now else None
        if status_was != status_now:
            found.verdicts.append(VerdictChange(name, status_was, status_now))
        if was and now:
            found.figures.extend(_moves(name, was.get("figures") or {}, now.get("figures") or {}))
    return found


def _moves(checker: str, before: dict[str, Any], after: dict[str, Any]) -> list[FigureMove]:
    moves = []
    for name, value in before.items():
        other = after.get(name)
        if not (_number(value) and _number(other)) or other is None:
            continue
        was, now = float(value), float(other)
        if not math.isclose(was, now, rel_tol=1e-9):
            moves.append(FigureMove(checker, name, was, now))
    return moves


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
