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
6. What operators can find is what the journal holds: at the end of a run the driver records
   every parked or dead-lettered entry as `exceptions / held_at_end` (`held` below; live, the
   orchestrator's `GET /exceptions`). Checkers count work as parked only if it is held there: a
   design that keeps its exceptions in memory loses them in a crash, whatever it said.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any

from mypy_extensions import mypyc_attr

from harness.effects import Effect, Load, Note, Now, Status, Store

TABLE = "workflow"
#: Journal states operators act on.
EXCEPTIONAL = ("parked", "dead_lettered")

Steps = Generator[Effect, Any, None]
Keys = Mapping[str, str | int]


@mypyc_attr(allow_interpreted_subclasses=True)  # designs extend it (simulators/compiled.py)
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


def held(journal_entries: Iterable[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The parked and dead-lettered workflows of a journal's `workflow` table (rule 6), each
    with what a `held_at_end` record says of it: status, code, and the business keys."""
    found = []
    for workflow, entry in journal_entries:
        if not isinstance(entry, Mapping) or entry.get("status") not in EXCEPTIONAL:
            continue
        keys = dict((entry.get("event") or {}).get("keys") or {"quote": workflow})
        details = {"status": entry["status"], "code": entry.get("code"), **keys}
        found.append((workflow, {k: v for k, v in details.items() if v is not None}))
    return found
