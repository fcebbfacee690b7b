"""Syncline's harness: run scenarios against integration designs and judge their invariants.

from harness import load, run
result = run(load("subscription_amendment"), "reference", seed=7)
assert result.passed, [v.summary for v in result.verdicts]
"""

import simulators  # noqa: F401  (first: it chooses compiled modules or their sources)
from harness.checkers import Verdict, check
from harness.designs import Context, Design, DesignError
from harness.effects import (
    Acquire,
    Call,
    CallError,
    Effect,
    Fork,
    Load,
    Note,
    Now,
    Publish,
    Release,
    Reply,
    Scan,
    Sleep,
    Status,
    Store,
)
from harness.engine import (
    Inbox,
    Outbox,
    RetryPolicy,
    call_with_retry,
    inbox,
    outbox,
    retry,
)
from harness.runner import RunResult, run
from harness.scenario import Scenario, ScenarioError, load

__all__ = [
    "Acquire",
    "Call",
    "CallError",
    "Context",
    "Design",
    "DesignError",
    "Effect",
    "Fork",
    "Inbox",
    "Load",
    "Note",
    "Now",
    "Outbox",
    "Publish",
    "Release",
    "Reply",
    "RetryPolicy",
    "RunResult",
    "Scan",
    "Scenario",
    "ScenarioError",
    "Sleep",
    "Status",
    "Store",
    "Verdict",
    "call_with_retry",
    "check",
    "inbox",
    "load",
    "outbox",
    "retry",
    "run",
]
