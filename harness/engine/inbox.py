"""An inbox that de-duplicates delivered events by event id (the idempotent consumer).

Rules:
1. An event id is accepted the first time it is seen; again within `retention_s` it is refused.
2. Retention is at least 72 h by default: vendors retry webhooks for up to 3 days while
   idempotency keys may expire after 24 h (vendor-behaviour.md), so the inbox must outlive both.
3. Ids older than the retention are forgotten in arrival order, so memory follows the
   retention window, not the run's length. Time is passed in; the inbox reads no clock.
"""

from __future__ import annotations

from collections import deque

from mypy_extensions import mypyc_attr

DEFAULT_RETENTION_S = 72 * 3600.0


@mypyc_attr(allow_interpreted_subclasses=True)  # designs extend it (simulators/compiled.py)
class Inbox:
    __slots__ = ("_expiry", "_seen", "retention_s")

    def __init__(self, retention_s: float = DEFAULT_RETENTION_S) -> None:
        self.retention_s = retention_s
        self._seen: set[str] = set()
        self._expiry: deque[tuple[float, str]] = deque()

    def accept(self, event_id: str, now: float) -> bool:
        """True the first time `event_id` arrives within the retention window."""
        self.forget_expired(now)
        if event_id in self._seen:
            return False
        self.remember(event_id, now)
        return True

    def remember(self, event_id: str, seen_at: float) -> None:
        """Note an id as seen at `seen_at` (also how a restarted inbox is rebuilt)."""
        self._seen.add(event_id)
        self._expiry.append((seen_at + self.retention_s, event_id))

    def forget_expired(self, now: float) -> list[str]:
        """Forget ids past retention; return them, so a journal can drop them too."""
        forgotten = []
        while self._expiry and self._expiry[0][0] <= now:
            event_id = self._expiry.popleft()[1]
            self._seen.discard(event_id)
            forgotten.append(event_id)
        return forgotten

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def __repr__(self) -> str:
        return f"inbox(retention={self.retention_s / 3600:g}h, remembered={len(self._seen)})"


def inbox(retention_s: float = DEFAULT_RETENTION_S) -> Inbox:
    if retention_s < DEFAULT_RETENTION_S:
        raise ValueError("an inbox must remember event ids for at least 72 h")
    return Inbox(retention_s)
