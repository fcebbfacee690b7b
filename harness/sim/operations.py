"""The simulated operations team: it works the exceptions and dead letters a design announces.

The protocol between a design and its operators (the same in live mode, where people use the
orchestrator's HTTP API instead):
- a design announces a business exception with
  `ctx.note("exceptions", workflow, "parked", {"code": ..., "reason": ...})`
  and a dead letter with `ctx.note("dead_letters", workflow, "dead_lettered", {...})`;
- operators answer with events `operator.resolve` (fixed: resume it), `operator.skip` (close
  it), `operator.compensate` (undo what it committed, then close it) or `operator.replay` (try
  the dead letter again), each with payload `{"workflow": ...}`.

The team follows the scenario's `operations:` rules, in business time: a rule for the error
code (or "*") says whether it repairs ERP's master data first, how long that takes, and what
it tells the design then. The `dead_letters` rule also covers the broker's dead letters, which
the team replays to their consumer group. Every step is a `policy` record in the history.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any

import simpy

from harness.effects import Note
from harness.history import PolicyRecord, Sink
from harness.scenario.operations import (
    OPERATOR_EVENT_PREFIX,
    OperationsSpec,
    after_business_time,
)
from simulators.base import DomainEvent

#: The event operators send for each `then:` of a rule.
ACTIONS = {
    "resume": "operator.resolve",
    "skip": "operator.skip",
    "compensate": "operator.compensate",
}


class OperationsTeam:
    def __init__(
        self,
        env: simpy.Environment,
        spec: OperationsSpec,
        calendar_start: datetime,
        repair_master_data: Callable[[], None],
        send: Callable[[DomainEvent], None],
        record: Sink,
    ) -> None:
        self.env, self.spec, self.calendar_start = env, spec, calendar_start
        self.repair_master_data, self.send, self.record = repair_master_data, send, record
        self.replay_message: Callable[[str, str], bool] | None = None  # the broker's replay
        self._sent = 0

    def broker_dead_letter(self, group: str, event: DomainEvent) -> None:
        """A message the broker gave up delivering to `group`: replay it, if the rules say so."""
        if self.spec.dead_letters is not None:
            self.env.process(self._replay(group, event.event_id))

    def _replay(self, group: str, message_id: str) -> Generator[simpy.Event, Any, None]:
        hours, wait = self.spec.business_hours, self.spec.dead_letters
        assert wait is not None
        done = after_business_time(self.calendar_start, self.env.now, wait.replay_after, hours)
        yield self.env.timeout(done - self.env.now)
        if self.replay_message is not None and self.replay_message(group, message_id):
            self._record(message_id, f"broker.replay:{group}")

    def noticed(self, note: Note) -> None:
        """A design's note: act on parked exceptions and dead letters the rules cover."""
        if note.policy == "exceptions" and note.event == "parked":
            rule = self.spec.rule_for(str(note.details.get("code", "")))
            if rule is not None:
                action = ACTIONS[rule.then]
                fix = rule.fix == "master_data"
                self.env.process(self._work(note.subject, rule.within, fix, action))
        elif (
            note.policy == "dead_letters"
            and note.event == "dead_lettered"
            and self.spec.dead_letters is not None
        ):
            dead = self.spec.dead_letters
            action = "operator.replay" if dead.then == "replay" else "operator.compensate"
            self.env.process(self._work(note.subject, dead.replay_after, False, action))

    def _work(
        self, workflow: str, within: float, fix: bool, action: str
    ) -> Generator[simpy.Event, Any, None]:
        hours = self.spec.business_hours
        done = after_business_time(self.calendar_start, self.env.now, within, hours)
        yield self.env.timeout(done - self.env.now)
        if fix:
            self.repair_master_data()
            self._record(workflow, "fixed_master_data")
        self._record(workflow, action)
        self._sent += 1
        self.send(
            DomainEvent(
                f"{OPERATOR_EVENT_PREFIX}{self._sent:06d}", action, "operations", self.env.now,
                {"workflow": workflow}, {"quote": workflow},
            )
        )  # fmt: skip

    def _record(self, workflow: str, event: str) -> None:
        self.record(PolicyRecord(self.env.now, "operations", workflow, event))
