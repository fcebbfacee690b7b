"""Sans-IO orchestration policies: pure code, the clock and the random stream passed in."""

from harness.engine.inbox import Inbox, inbox
from harness.engine.retry import RetryPolicy, call_with_retry, retry

__all__ = ["Inbox", "RetryPolicy", "call_with_retry", "inbox", "retry"]
