"""The business exception queue and the dead letters: work set aside, with its reason, for people.

Rules:
1. Both live in the journal's `workflow` table, in the workflow's own entry, so setting work
   aside is one journal write that survives a crash; nothing about it is held in memory.
2. A business exception (validation, mapping, a refusal) is `parked` with the error's code and
   reason. Retrying cannot help, so nothing retries it; only an operator's action moves it.
3. A technical failure that outlasted its retry policy is `dead_lettered`, keeping the original
   message (the entry's `event`) and the failure (step, code, reason, time), for replay.
4. Operators act only on what is parked or dead-lettered: `take` hands back the entry and
   records the action and how long the work waited; anything else is noted and left alone.
5. Every change is a `policy` record (`exceptions` or `dead_letters`) in the history, and a
   workflow status with the reason.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from harness.effects import Effect, Load, Note, Now, Status, Store

TABLE = "workflow"
#: Journal states operators act on.
EXCEPTIONAL = ("parked", "dead_lettered")

Steps = Generator[Effect, Any, None]
Keys = Mapping[str, str | int]


class ExceptionQueue:
    __slots__ = ()

    def update(self, workflow: str, changes: Mapping[str, Any]) -> Steps:
        """Change fields of a workflow's journal entry, if it still has one."""
        entry = yield Load(TABLE, workflow)
        if entry is not None:
            yield Store(TABLE, workflow, {**entry, **changes})

    def park(self, workflow: str, code: str, reason: str, keys: Keys) -> Steps:
        """Set a business exception aside for operators."""
        now = yield Now()
        changes = {"status": "parked", "code": code, "reason": reason, "parked_at": now}
        yield from self.update(workflow, changes)
        yield Note("exceptions", workflow, "parked", {"code": code, "reason": reason})
        yield Status(workflow, "parked", reason, keys)

    def dead_letter(self, workflow: str, step: str, code: str, reason: str, keys: Keys) -> Steps:
        """Keep the original message and the failure, for operators to replay."""
        now = yield Now()
        failure = {"step": step, "code": code, "reason": reason, "at": now}
        changes = {"status": "dead_lettered", "failure": failure, "parked_at": now}
        yield from self.update(workflow, changes)
        yield Note("dead_letters", workflow, "dead_lettered", {"step": step, "code": code})
        yield Status(workflow, "dead_lettered", reason, keys)

    def take(self, workflow: str, action: str) -> Generator[Effect, Any, dict[str, Any] | None]:
        """The entry of a parked or dead-lettered workflow an operator acts on, else None."""
        entry = yield Load(TABLE, workflow)
        if entry is None or entry["status"] not in EXCEPTIONAL:
            yield Note("exceptions", workflow, "nothing_to_act_on", {"action": action})
            return None
        now = yield Now()
        policy = "dead_letters" if entry["status"] == "dead_lettered" else "exceptions"
        waited = round(now - float(entry.get("parked_at", now)), 3)
        yield Note(policy, workflow, "taken", {"action": action, "parked_for_s": waited})
        return dict(entry)

    def __repr__(self) -> str:
        return f"exception_queue(states={'|'.join(EXCEPTIONAL)}, journal_table={TABLE!r})"


def exception_queue() -> ExceptionQueue:
    """Business exceptions and dead letters, kept in the workflow journal."""
    return ExceptionQueue()
