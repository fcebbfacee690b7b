"""Where the studio reads a run's records: a stored run directory, or live services.

Both answer the same questions: what the page needs up front (`overview`), the records of a
window of time (at most `limit` of them, evenly sampled when there are more, with the true
count), and the running verdicts. A stored history is read from the file at a seek point, never
held in memory; a live one is polled from the services' admin history (and the orchestrator's
own history file beside them) and judged again at each poll.
"""

from __future__ import annotations

import bisect
import json
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.history import RunEnded, RunStarted, to_json
from harness.scenario import Scenario, parse
from harness.studio.index import (
    Mark,
    Scan,
    breaches,
    evidence_positions,
    parse_records,
    record_time,
    running_verdicts,
)
from reports.evidence import traceable_id

#: The most records one window answer holds; a busier window is sampled evenly.
WINDOW_LIMIT = 2000
#: Lines read at most for one window (a day of a busy run), so one request stays cheap.
WINDOW_READ = 250_000


class NotARun(ValueError):
    """The path is neither a run directory nor live services; the message says which file."""


def evidence_ids(verdicts: Iterable[Mapping[str, Any]], shown: int = 3) -> dict[str, list[str]]:
    """Each checker's first few evidence ids that `syncline trace` can follow (found as the
    reports find them): what the page links to their lineage."""
    found: dict[str, list[str]] = {}
    for verdict in verdicts:
        ids = found.setdefault(str(verdict["checker"]), [])
        for item in verdict.get("evidence", ()):
            business_id = traceable_id(item)
            if business_id is not None and business_id not in ids and len(ids) < shown:
                ids.append(business_id)
    return found


def read_scenario(directory: Path) -> Scenario:
    path = directory / "scenario.yaml"
    return parse(path.read_text(encoding="utf-8"), str(path), strict_units=False)


@dataclass
class Window:
    records: list[dict[str, Any]]
    count: int  # records in the window, of which `records` is an even sample when fewer
    complete: bool = True  # False when WINDOW_READ cut the window short

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "count": self.count, "complete": self.complete}


def _window(
    lines: Iterator[tuple[int, float, bytes]], t0: float, t1: float, limit: int, head: bool
) -> Window:
    """The records of [t0, t1] among `lines` (position, time, line), from a point before t0:
    an even sample of at most `limit`, or with `head` the first `limit` (a step forward)."""
    found: list[tuple[int, bytes]] = []
    complete = True
    for position, t, line in lines:
        if t < t0:
            continue
        if t > t1:
            break
        found.append((position, line))
        if len(found) >= (limit if head else WINDOW_READ):
            complete = head
            break
    step = max(1, -(-len(found) // max(1, limit)))
    kept = found[::step]
    records = []
    for position, line in kept:
        record = json.loads(line)
        record["position"] = position
        records.append(record)
    return Window(records, len(found), complete)


class StoredRun:
    """A run directory: summary.json, scenario.yaml and history.jsonl as `syncline run` wrote."""

    live = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.history = directory / "history.jsonl"
        for required in (self.history, directory / "scenario.yaml"):
            if not required.is_file():
                raise NotARun(f"{directory} is not a run directory: {required.name} is missing")
        summary = directory / "summary.json"
        self.summary: dict[str, Any] = (
            json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
        )
        self.scenario = read_scenario(directory)
        self.scan = Scan(self.scenario.horizon_s)
        with self.history.open("rb") as lines:
            offset = 0
            for line in lines:
                if line.strip():
                    self.scan.feed(line, offset)
                offset += len(line)
        self._overview = self.scan.finish()
        self._overview["verdicts"] = self.summary.get("checkers", [])
        self._overview["evidence_ids"] = evidence_ids(self._overview["verdicts"])
        self._marks: list[Mark] | None = None
        self._judged = 0  # records folded so far by the second pass
        self._judging: Any = None  # the background pass's shared count of records folded
        self._lock = threading.Lock()

    # -- the second pass --------------------------------------------------------------------

    def judge(self) -> None:
        """Fold the checkers over the history (index rule 2), here and now."""
        if self._marks is not None:
            return
        marks = _judge(self.history, self.scenario, self.scan.records, self._evidence(),
                       self._progress)  # fmt: skip
        with self._lock:
            self._marks = marks

    def judge_in_background(self) -> None:
        """The second pass in a process of its own, so scrubbing meanwhile keeps a core and
        the GIL to itself; the page polls `marks` and shows how far it got."""
        if self._marks is not None or self._judging is not None:
            return
        context = multiprocessing.get_context("spawn")  # the server has threads: no fork
        done = context.Value("q", 0)
        receiving, sending = context.Pipe(duplex=False)
        worker = context.Process(
            target=_judge_and_send, daemon=True, name="syncline-studio-judge",
            args=(self.history, self.scenario, self.scan.records, self._evidence(), done,
                  sending),
        )  # fmt: skip
        worker.start()
        sending.close()
        self._judging = done

        def receive() -> None:
            try:
                marks = receiving.recv()
            except EOFError:  # the worker died: judge here instead
                marks = None
            worker.join()
            if marks is None:
                self.judge()
                return
            with self._lock:
                self._marks = marks

        threading.Thread(target=receive, daemon=True).start()

    def _evidence(self) -> set[int]:
        return evidence_positions(self.summary.get("checkers", []))

    def _progress(self, position: int) -> None:
        self._judged = position

    def marks(self) -> dict[str, Any]:
        with self._lock:
            marks = self._marks
        if marks is None:
            done = self._judging.value if self._judging is not None else self._judged
            return {"ready": False, "done": done, "of": self.scan.records}
        return {"ready": True, "marks": [m.as_dict() for m in marks], "breaches": breaches(marks)}

    # -- what the page asks -----------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        return {**self._overview, "live": False, "directory": str(self.directory)}

    def window(self, t0: float, t1: float, limit: int = WINDOW_LIMIT, head: bool = False) -> Window:
        return _window(self._lines_from(t0), t0, t1, limit, head)

    def first_event(self, event_type: str) -> float | None:
        """When the systems first emitted an event of `event_type` (a lesson's caption)."""
        wanted = f'"event_type":"{event_type}"'.encode()
        with self.history.open("rb") as lines:
            for line in lines:
                if line.startswith(b'{"kind":"event"') and wanted in line:
                    return record_time(line)
        return None

    def _lines_from(self, t: float) -> Iterator[tuple[int, float, bytes]]:
        position, offset = self.scan.seek.before(t)
        with self.history.open("rb") as lines:
            lines.seek(offset)
            for line in lines:
                if line.strip():
                    yield position, record_time(line), line
                    position += 1


def _judge(
    history: Path, scenario: Scenario, count: int, also: set[int],
    progress: Callable[[int], None] | None = None,
) -> list[Mark]:  # fmt: skip
    with history.open("rb") as lines:
        return running_verdicts(parse_records(lines), scenario, count, also, progress)


def _judge_and_send(
    history: Path, scenario: Scenario, count: int, also: set[int], done: Any, answer: Any
) -> None:
    """The background pass's process: its marks go back through the pipe."""

    def progress(position: int) -> None:
        done.value = position

    answer.send(_judge(history, scenario, count, also, progress))
    answer.close()


@dataclass
class LiveBuffer:
    """The records of live services so far, merged in time order from their sources."""

    lines: list[tuple[float, int, bytes]] = field(default_factory=list)  # (t, source, line)
    seen: dict[int, int] = field(default_factory=dict)  # lines taken from each source

    def take(self, source: int, lines: Sequence[bytes]) -> bool:
        """Add the lines of `source` not taken yet; True when there were any."""
        fresh = lines[self.seen.get(source, 0) :]
        if not fresh:
            return False
        self.seen[source] = len(lines)
        for line in fresh:
            if line.strip():
                self.lines.append((record_time(line), source, line))
        self.lines.sort(key=lambda item: (item[0], item[1]))  # stable: each source's order kept
        return True

    def ordered(self) -> tuple[list[bytes], list[float]]:
        """The lines in time order, and their times."""
        return [line for _, _, line in self.lines], [t for t, _, _ in self.lines]


def framed(lines: Iterable[bytes], meta: dict[str, Any], now: float) -> Iterator[bytes]:
    """A live history as a stored one reads: a run_started first, a run_ended at `now`."""
    started = RunStarted(0.0, meta["scenario"], meta["design"], meta["seed"], meta["start"],
                         meta["horizon"])  # fmt: skip
    yield to_json(started).encode()
    yield from lines
    yield to_json(RunEnded(now)).encode()


def window_of(
    lines: Sequence[bytes], times: Sequence[float], t0: float, t1: float, limit: int,
    head: bool = False,
) -> Window:  # fmt: skip
    """A window of lines held in memory with their `times`, found by bisection."""
    first = bisect.bisect_left(times, t0)
    found = ((p, times[p], lines[p]) for p in range(first, len(lines)))
    return _window(found, t0, t1, limit, head)
