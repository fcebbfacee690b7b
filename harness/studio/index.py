"""What the studio's page needs of a history before it plays: read once, small, sent whole.

Rules:
1. The first pass reads each line as bytes and parses only what it must (a record's kind, time
   and system by search; faults, policies, workflows and the run's start as JSON), so a
   30-day run's history (127 MB, 573,000 records) opens in well under its 3 s budget. It keeps
   a seek point every `STRIDE` records, so a window of the history is read from the file, not
   from memory, and figures per time bucket: calls, failed calls, events, duplicates, and at the
   end of each bucket how much work is in flight, parked, dead-lettered, in the outbox, and
   which breakers are open. Fault windows come from fault records: a system's state at any time.
2. The second pass folds the scenario's own checkers over the records (`harness.checkers`),
   asking each for its verdict at `MARKS` evenly spaced positions and at every position its
   final evidence names, so a running verdict turns the moment the history shows the breach.
   It is what `syncline analyze` computes, stopped along the way; the last point is the
   run's verdicts, equal to summary.json's.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import checkers
from harness.checkers.base import Verdict
from harness.history import Record, from_dict
from harness.scenario import Scenario

#: Records between two seek points of a stored history.
STRIDE = 256
#: Time buckets of the figures (queue depths, call counts) the page draws and reads at a time.
BUCKETS = 720
#: Evenly spaced positions at which the running verdicts are taken (besides the evidence's).
MARKS = 240
#: Workflow statuses after which a workflow is no longer the integration's work in flight.
SETTLED = frozenset({
    "completed", "failed", "superseded", "skipped", "compensated", "parked", "dead_lettered",
})  # fmt: skip
#: The figures counted per bucket, and those read at a bucket's end (a depth, not a count).
COUNTS = ("calls", "failed", "events", "duplicates", "writes")
DEPTHS = ("in_flight", "parked", "dead_lettered", "outbox")


def record_time(line: bytes) -> float:
    """A history line's `t`, found by search: every record has it right after its kind."""
    start = line.index(b',"t":', 8) + 5
    end = line.find(b",", start)
    return float(line[start : end if end > 0 else line.rindex(b"}")])


def _field(line: bytes, name: bytes) -> str | None:
    """A string field's value, found by search (ids and names hold no escaped quotes)."""
    start = line.find(name)
    if start < 0:
        return None
    start += len(name)
    return line[start : line.index(b'"', start)].decode()


@dataclass
class Seek:
    """Where to start reading a stored history for a time: every STRIDE-th record's time and
    byte offset."""

    times: list[float] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)

    def before(self, t: float) -> tuple[int, int]:
        """(position, byte offset) of a record at or before the first one at time `t`."""
        index = max(0, bisect.bisect_left(self.times, t) - 1)
        return index * STRIDE, self.offsets[index] if self.offsets else 0


class Scan:
    """The first pass (rule 1): fed every line in order."""

    def __init__(self, horizon: float) -> None:
        self.horizon = max(horizon, 1e-9)
        self.width = self.horizon / BUCKETS
        self.meta: dict[str, Any] = {}
        self.records = 0
        self.seek = Seek()
        self.systems: dict[str, None] = {}  # in the order first seen
        self.counts: dict[str, dict[str, list[int]]] = {name: {} for name in COUNTS}
        self.depths: dict[str, list[int]] = {name: [0] * BUCKETS for name in DEPTHS}
        self.breakers: list[list[str]] = [[] for _ in range(BUCKETS)]
        self.faults: list[dict[str, Any]] = []
        self._open: dict[tuple[str, str], dict[str, Any]] = {}
        self._workflows: dict[str, str] = {}
        self._in_flight = self._parked = self._dead = self._outbox = 0
        self._breakers: set[str] = set()
        self._bucket = 0
        self.end = 0.0

    def feed(self, line: bytes, offset: int = 0) -> None:
        t = record_time(line)
        if self.records % STRIDE == 0:
            self.seek.times.append(t)
            self.seek.offsets.append(offset)
        self.records += 1
        self.end = max(self.end, t)
        bucket = min(int(t / self.width), BUCKETS - 1) if t > 0 else 0
        if bucket > self._bucket:
            self._close_buckets(bucket)
        kind = line[9 : line.index(b'"', 9)]
        if kind == b"call":
            system = _field(line, b'"system":"') or "?"
            answer = _field(line, b'"type":"')
            if answer == "invoke":
                self._count("calls", system, bucket)
            elif answer in ("fail", "info"):
                self._count("failed", system, bucket)
        elif kind == b"state":
            self._count("writes", _field(line, b'"system":"') or "?", bucket)
        elif kind == b"event":
            system = _field(line, b'"system":"') or "?"
            if b'"type":"emitted"' in line:
                self._count("events", system, bucket)
            elif b'"type":"delivered"' in line and not line.rstrip().endswith(b'"delivery":1}'):
                self._count("duplicates", system, bucket)
        elif kind == b"workflow":
            self._workflow(json.loads(line))
        elif kind == b"policy":
            self._policy(json.loads(line))
        elif kind == b"fault":
            self._fault(json.loads(line))
        elif kind == b"run_started":
            self.meta = json.loads(line)

    def _count(self, figure: str, system: str, bucket: int) -> None:
        if system not in self.systems and not system.startswith("broker"):
            self.systems[system] = None
        series = self.counts[figure].get(system)
        if series is None:
            series = self.counts[figure][system] = [0] * BUCKETS
        series[bucket] += 1

    def _workflow(self, record: Mapping[str, Any]) -> None:
        workflow, status = str(record["workflow"]), str(record["status"])
        before = self._workflows.get(workflow)
        was = before is not None and before not in SETTLED
        now = status not in SETTLED
        self._in_flight += int(now) - int(was)
        self._workflows[workflow] = status

    def _policy(self, record: Mapping[str, Any]) -> None:
        policy, event = record["policy"], record["event"]
        if policy == "exceptions":
            self._parked += 1 if event == "parked" else -1 if event in ("taken", "resolved") else 0
        elif policy == "dead_letters":
            moved = 1 if event == "dead_lettered" else -1 if event in ("taken", "replayed") else 0
            self._dead += moved
        elif policy == "outbox":
            self._outbox += 1 if event == "staged" else -1 if event == "published" else 0
        elif policy == "breaker":
            subject = str(record["subject"])
            (self._breakers.add if event == "open" else self._breakers.discard)(subject)
        self._parked, self._dead, self._outbox = (
            max(0, self._parked), max(0, self._dead), max(0, self._outbox),
        )  # fmt: skip

    def _fault(self, record: Mapping[str, Any]) -> None:
        party, kind = str(record["system"]), str(record["fault"])
        if party not in self.systems:
            self.systems[party] = None
        if record["phase"] == "start":
            window = {"party": party, "kind": kind, "start": record["t"], "end": None}
            if record.get("params"):
                window["params"] = record["params"]
            self._open[(party, kind)] = window
            self.faults.append(window)
        else:
            opened = self._open.pop((party, kind), None)
            if opened is not None:
                opened["end"] = record["t"]

    def _close_buckets(self, upto: int) -> None:
        """The depths at the end of every bucket before `upto`."""
        values = {"in_flight": self._in_flight, "parked": self._parked,
                  "dead_lettered": self._dead, "outbox": self._outbox}  # fmt: skip
        breakers = sorted(self._breakers)
        for bucket in range(self._bucket, upto):
            for name, value in values.items():
                self.depths[name][bucket] = value
            self.breakers[bucket] = breakers
        self._bucket = upto

    def finish(self) -> dict[str, Any]:
        """What the page is sent up front: the run, its fault windows, the figures."""
        self._close_buckets(BUCKETS)
        return {
            "run": {key: self.meta.get(key) for key in ("scenario", "design", "seed", "start")},
            "horizon": self.horizon,
            "end": self.end,
            "records": self.records,
            "systems": list(self.systems),
            "faults": self.faults,
            "bucket_s": self.width,
            "counts": self.counts,
            "depths": self.depths,
            "breakers": self.breakers,
        }


def scan_lines(lines: Iterable[bytes], horizon: float) -> Scan:
    """The first pass over lines that are all in memory (a live history)."""
    scan = Scan(horizon)
    for line in lines:
        if line.strip():
            scan.feed(line)
    return scan


@dataclass(frozen=True, slots=True)
class Mark:
    """The checkers' verdicts after the record at `position` (time `t`)."""

    position: int
    t: float
    verdicts: tuple[Verdict, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "t": self.t,
            "verdicts": [
                {"checker": v.checker, "status": v.status, "summary": v.summary}
                for v in self.verdicts
            ],
        }


def evidence_positions(verdicts: Iterable[Mapping[str, Any]]) -> set[int]:
    """Every history position a summary's evidence names: where a breach became visible."""
    found: set[int] = set()
    for verdict in verdicts:
        for item in verdict.get("evidence", ()):
            for key, value in item.items():
                if key == "position" or key.endswith("_position"):
                    if isinstance(value, int):
                        found.add(value)
                elif key == "positions" and isinstance(value, list):
                    found.update(v for v in value if isinstance(v, int))
    return found


def running_verdicts(
    records: Iterator[Record],
    scenario: Scenario,
    count: int,
    also_at: Iterable[int] = (),
    progress: Callable[[int], None] | None = None,
) -> list[Mark]:
    """The second pass (rule 2): the checkers' verdicts at MARKS evenly spaced positions of
    `count` records, at each of `also_at`, and after the last record."""
    dispatch = checkers.Dispatch(checkers.build(scenario))
    step = max(1, count // MARKS)
    wanted = {*range(step - 1, count, step), *also_at, count - 1}
    marks: list[Mark] = []
    position = -1
    for position, record in enumerate(records):
        dispatch(record)
        if position in wanted:
            marks.append(Mark(position, record.t, tuple(dispatch.verdicts())))
        if progress is not None and position % 20_000 == 0:
            progress(position)
    if marks and marks[-1].position != position and position >= 0:
        marks.append(Mark(position, marks[-1].t, tuple(dispatch.verdicts())))
    return marks


def breaches(marks: Sequence[Mark]) -> list[dict[str, Any]]:
    """The moments a checker's running verdict turned to `fail`: where the page jumps to."""
    found: list[dict[str, Any]] = []
    before: dict[str, str] = {}
    for mark in marks:
        for verdict in mark.verdicts:
            if verdict.status == "fail" and before.get(verdict.checker) != "fail":
                found.append({"t": mark.t, "position": mark.position,
                              "checker": verdict.checker, "summary": verdict.summary})  # fmt: skip
            before[verdict.checker] = verdict.status
    return found


def parse_records(lines: Iterable[bytes]) -> Iterator[Record]:
    for line in lines:
        if line.strip():
            yield from_dict(json.loads(line))
