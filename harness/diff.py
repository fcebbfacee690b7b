"""`syncline diff`: what changed between two runs — the question CI asks after every change.

Rules:
1. A verdict that got worse (pass → fail or unknown, unknown → fail) is a regression; one that
   got better is an improvement; a checker in only one run is named.
2. Figures are compared checker by checker. A run is deterministic (same scenario, seed and
   code ⇒ same bytes), so between two runs of the same scenario and seed any moved figure is a
   real change, reported with both values and the relative move. Between runs of different
   seeds the noise of one run is unknown: figures are listed but never judged (a sweep's
   intervals are the way to judge them).
3. Only regressions decide the exit code (1); moved figures inform.
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
