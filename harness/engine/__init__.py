"""Sans-IO orchestration policies: pure code, the clock and the random stream passed in."""

from harness.engine.breaker import CircuitBreaker, breaker
from harness.engine.exceptions import ExceptionQueue, exception_queue
from harness.engine.inbox import Inbox, inbox
from harness.engine.outbox import Outbox, outbox
from harness.engine.retry import Confirm, RetryPolicy, call_with_retry, retry

__all__ = [
    "CircuitBreaker",
    "Confirm",
    "ExceptionQueue",
    "Inbox",
    "Outbox",
    "RetryPolicy",
    "breaker",
    "call_with_retry",
    "exception_queue",
    "inbox",
    "outbox",
    "retry",
]
