"""A run's history writer, checkers and metrics in a second process.

A run alone on a machine leaves a core idle while its one thread simulates, writes every record
as a JSON line and folds it through the checkers. Judged aside, the simulating process only
gathers the records in batches and pickles each batch down a pipe; a forked child writes,
judges and counts them in the same order, so the history's bytes and the verdicts are the
one-process run's. The pipe's small buffer holds the simulation back when the child falls
behind, so memory stays that of a few batches.

Runs that already share the machine's cores (a sweep's, a swarm's, the gate's workers) and runs
in a child process keep to one process: `wanted()` says when a second one pays.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import operator
import os
import pickle
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from harness import checkers, cores
from harness.checkers.base import Verdict
from harness.history import RECORD_TYPES, HistoryWriter, Record, record_fields
from harness.metrics import RunMetrics
from harness.scenario import Scenario

#: Records a batch: large enough that pickling and the pipe cost little per record, small
#: enough that the child starts at once and the batches in flight stay a few MiB.
BATCH = 2048
_END = b""
#: Records cross the pipe as (type number, field values): frozen (and compiled) dataclasses
#: are slow to pickle, or refuse to be unpickled.
_TYPES = tuple(RECORD_TYPES.values())
_NUMBER = {cls: number for number, cls in enumerate(_TYPES)}


def _getter(names: tuple[str, ...]) -> Callable[[Record], tuple[Any, ...]]:
    """A record's field values as a tuple (attrgetter gives a bare value for one name)."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    (name,) = names
    return lambda record: (getattr(record, name),)


_VALUES = {cls: _getter(record_fields(cls)) for cls in _TYPES}


def _rows(batch: list[Record]) -> bytes:
    number, values = _NUMBER, _VALUES
    rows = [(number[type(r)], values[type(r)](r)) for r in batch]
    return pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)


def _records(data: bytes) -> list[Record]:
    types = _TYPES
    return [types[number](*values) for number, values in pickle.loads(data)]


def wanted() -> bool:
    """Whether a run here should judge aside: a second core, `fork`, and this process not a
    worker of a pool or another run (SYNCLINE_ONE_PROCESS=1 says no)."""
    return (
        cores.usable() > 1
        and "fork" in multiprocessing.get_all_start_methods()
        and multiprocessing.parent_process() is None
        and os.environ.get("SYNCLINE_ONE_PROCESS", "") in ("", "0")
    )


class Judged:
    """What the child hands back: the verdicts, the metrics' summary and the records seen."""

    def __init__(self, verdicts: list[Verdict], metrics: dict[str, Any], records: int) -> None:
        self.verdicts = verdicts
        self.metrics = metrics
        self.records = records


class JudgeAside:
    """The simulation's sink: records go in batches to a child that writes `history_file` and
    runs the scenario's checkers and the metrics over them. `finish()` returns `Judged`; on an
    error in the child it raises that error here. Use it as a context manager, so that the
    child ends (with what it was sent written) however the simulation ends."""

    def __init__(self, scenario: Scenario, history_file: Path) -> None:
        context = multiprocessing.get_context("fork")
        self._results, results_out = context.Pipe(duplex=False)
        records_in, self._records = context.Pipe(duplex=False)
        self._child = context.Process(
            target=_judge,
            args=(scenario, history_file, records_in, results_out),
            name="syncline-judge",
            daemon=True,
        )
        self._child.start()
        records_in.close()
        results_out.close()
        self._batch: list[Record] = []
        self._ended = False

    def __call__(self, record: Record) -> None:
        batch = self._batch
        batch.append(record)
        if len(batch) >= BATCH:
            self._send(_rows(batch))
            batch.clear()

    def _send(self, data: bytes) -> None:
        try:
            self._records.send_bytes(data)
        except (BrokenPipeError, ConnectionResetError):
            self._ended = True
            raise self._failure() from None

    def finish(self) -> Judged:
        """Send what is left, and wait for the child's verdicts."""
        if self._batch:
            self._send(_rows(self._batch))
            self._batch.clear()
        self._send(_END)
        self._ended = True
        outcome = self._answer()
        self._child.join()
        if isinstance(outcome, Judged):
            return outcome
        raise outcome

    def _answer(self) -> Judged | BaseException:
        try:
            answer: Judged | BaseException = pickle.loads(self._results.recv_bytes())
        except (EOFError, OSError):
            self._child.join()
            return RuntimeError(
                f"the run's judging process ended with exit code {self._child.exitcode} "
                "before it answered"
            )
        return answer

    def _failure(self) -> BaseException:
        outcome = self._answer()
        if isinstance(outcome, Judged):
            return RuntimeError("the judging process stopped")
        return outcome

    def __enter__(self) -> JudgeAside:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._ended:  # the simulation failed: the child writes what it has and ends
            self._ended = True
            with contextlib.suppress(OSError):
                self._records.send_bytes(_END)
        self._records.close()
        self._child.join()
        self._results.close()


def _judge(
    scenario: Scenario, history_file: Path, records: Connection, results: Connection
) -> None:
    """The child: write, judge and count every record in the order sent, then answer."""
    answer: Judged | Exception
    try:
        dispatch = checkers.Dispatch(checkers.build(scenario))
        metrics = RunMetrics()
        with HistoryWriter(history_file) as writer:
            while data := records.recv_bytes():
                for record in _records(data):
                    writer(record)
                    dispatch(record)
                    metrics(record)
        answer = Judged(dispatch.verdicts(), metrics.summary(), dispatch.position)
    except Exception as error:  # handed to the parent, which raises it as its own
        answer = error
    try:
        data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    except Exception as unpicklable:  # goes back as the text of what could not be pickled
        failed = answer if isinstance(answer, Exception) else unpicklable
        data = pickle.dumps(RuntimeError("".join(traceback.format_exception(failed))))
    results.send_bytes(data)
    results.close()
