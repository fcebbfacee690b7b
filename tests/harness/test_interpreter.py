"""The one effect interpreter: what it answers itself, what it hands to a driver, and that no
other module of the package interprets effects."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from harness.effects import Acquire, Call, Fork, Load, Note, Now, Release, Sleep, Status, Store
from harness.history import PolicyRecord, Record, WorkflowRecord
from harness.interpreter import HandlerRun, MemoryJournal, Steps
from harness.scenario.fault_kinds import BY_NAME, CONDITIONS, KINDS, SCENARIO_KINDS
from simulators.availability import Conditions
from simulators.base import DomainEvent

EVENT = DomainEvent("EVT-1", "quote.approved", "cpq", 0.0, {}, {"quote": "Q-1"})
PACKAGE = Path(__file__).resolve().parents[2] / "harness"


class FakeDriver:
    systems = ("erp",)

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.journal = MemoryJournal()
        self.notes: list[Note] = []
        self.forked: list[tuple[str, bool]] = []
        self.released: list[tuple[str, Any]] = []

    def now(self) -> float:
        return 42.0

    def record(self, record: Record) -> None:
        self.records.append(record)

    def noticed(self, note: Note) -> None:
        self.notes.append(note)

    def fork(self, event: DomainEvent, steps: Steps, daemon: bool) -> None:
        self.forked.append((event.event_id, daemon))

    def release(self, key: str, token: Any) -> None:
        self.released.append((key, token))


def drive(driver: FakeDriver, make: Any, answers: dict[type, Any]) -> tuple[HandlerRun, list[Any]]:
    """Run a handler, answering each waiting effect from `answers` by its type."""
    run = HandlerRun(driver, EVENT, make)
    waits, waited, result = run.run(), [], None
    while True:
        try:
            effect = waits.send(result)
        except StopIteration:
            run.release_all()
            return run, waited
        waited.append(effect)
        result = answers.get(type(effect))


def test_it_answers_what_takes_no_time_and_hands_over_what_waits() -> None:
    def handler() -> Generator[Any, Any, None]:
        now = yield Now()
        yield Store("t", "k", {"at": now})
        loaded = yield Load("t", "k")
        yield Status("Q-1", "completed", keys={"quote": "Q-1"})
        yield Note("breaker", "erp", "opened", {"failures": 3})
        yield Acquire("contract:C-1")
        reply = yield Call("erp", "create_sales_order", {"quote_id": "Q-1"})
        yield Sleep(5.0)
        yield Fork(iter(()), "FORK-1", daemon=True)
        yield Release("contract:C-1")
        assert loaded == {"at": 42.0} and reply == "ok"

    driver = FakeDriver()
    run, waited = drive(driver, handler, {Call: "ok", Acquire: "token-1"})
    assert [type(e) for e in waited] == [Acquire, Call, Sleep]
    assert run.ended_normally
    assert driver.records == [
        WorkflowRecord(42.0, "Q-1", "completed", {"quote": "Q-1"}),
        PolicyRecord(42.0, "breaker", "erp", "opened", {"failures": 3}),
    ]
    assert [n.event for n in driver.notes] == ["opened"]
    assert driver.forked == [("FORK-1", True)]
    assert driver.released == [("contract:C-1", "token-1")]


def test_design_faults_end_the_handler_as_crashed_and_release_its_locks() -> None:
    def yields_junk() -> Generator[Any, Any, None]:
        yield Acquire("k")
        yield "not an effect"

    def calls_nowhere() -> Generator[Any, Any, None]:
        yield Call("nowhere", "op")

    def raises() -> Generator[Any, Any, None]:
        yield Now()
        raise RuntimeError("boom")

    for make, reason in [
        (yields_junk, "yielded 'not an effect', which is not an effect"),
        (calls_nowhere, "called unknown system 'nowhere'"),
        (raises, "RuntimeError: boom"),
    ]:
        driver = FakeDriver()
        run, _ = drive(driver, make, {Acquire: "t"})
        assert not run.ended_normally
        crashed = [r for r in driver.records if isinstance(r, WorkflowRecord)]
        assert crashed == [
            WorkflowRecord(42.0, "handler:EVT-1", "crashed", {"quote": "Q-1"}, reason)
        ]
    assert driver.released == []  # `raises` held nothing; `yields_junk` released (checked below)
    driver = FakeDriver()
    drive(driver, yields_junk, {Acquire: "t"})
    assert driver.released == [("k", "t")]


def test_a_consumer_returning_false_is_not_acknowledged() -> None:
    def nacks() -> Generator[Any, Any, bool]:
        yield Now()
        return False

    run, _ = drive(FakeDriver(), nacks, {})
    assert not run.ended_normally


def test_an_interrupted_handler_closes_the_design_and_says_so() -> None:
    closed = []

    def handler() -> Generator[Any, Any, None]:
        try:
            yield Sleep(10)
        finally:
            closed.append(True)

    driver = FakeDriver()
    run = HandlerRun(driver, EVENT, handler)
    waits = run.run()
    next(waits)
    waits.close()
    run.interrupted()
    assert closed == [True]
    assert driver.records[-1] == WorkflowRecord(
        42.0, "handler:EVT-1", "interrupted", {"quote": "Q-1"}, "orchestrator crash"
    )


def test_one_module_interprets_effects() -> None:
    interpreting = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "steps.send(" in path.read_text(encoding="utf-8")
    )
    assert interpreting == ["interpreter.py"]


def test_the_fault_kind_table_is_whole() -> None:
    assert CONDITIONS == Conditions.KINDS
    for name in SCENARIO_KINDS:
        assert BY_NAME[name].swarm is not None, f"{name} cannot be drawn by a swarm"
    assert len({kind.name for kind in KINDS}) == len(KINDS)
