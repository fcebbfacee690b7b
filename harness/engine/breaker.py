"""A circuit breaker per target system (Resilience4j-style), pure and clock-injected.

Rules:
1. Closed: calls go through; the outcome of the last `window` calls is kept. Once at least
   `minimum_calls` are known and the share of failures reaches `failure_rate`, it opens.
2. Open: no call goes through for `open_for` seconds. The caller parks its work (waits) instead
   of failing it: the system is known to be down, hammering it helps nobody.
3. Half-open: after `open_for`, up to `probes` calls go through. If they all succeed it closes
   (and forgets the window); any failure opens it again.
4. Only transient and ambiguous failures count: a business refusal says nothing about health.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from mypy_extensions import mypyc_attr

State = Literal["closed", "open", "half_open"]

#: How long a call waits for a half-open probe slot before asking again.
PROBE_WAIT_S = 5.0


@mypyc_attr(allow_interpreted_subclasses=True)  # designs extend it (simulators/compiled.py)
class CircuitBreaker:
    __slots__ = (
        "_in_probe", "_outcomes", "_probe_successes", "failure_rate", "minimum_calls",
        "open_for", "opened_at", "probes", "state", "window",
    )  # fmt: skip

    def __init__(
        self,
        window: int = 20,
        failure_rate: float = 0.5,
        minimum_calls: int = 10,
        open_for: float = 60.0,
        probes: int = 3,
    ) -> None:
        self.window, self.failure_rate, self.minimum_calls = window, failure_rate, minimum_calls
        self.open_for, self.probes = open_for, probes
        self.state: State = "closed"
        self.opened_at = 0.0
        self._outcomes: deque[bool] = deque(maxlen=window)  # True = failure
        self._in_probe = 0
        self._probe_successes = 0

    def admit(self, now: float) -> tuple[float | None, State | None]:
        """(None, _) to go ahead, or (seconds to park, _); the second item is a new state."""
        changed: State | None = None
        if self.state == "open":
            if now < self.opened_at + self.open_for:
                return self.opened_at + self.open_for - now, None
            self.state, changed = "half_open", "half_open"
            self._in_probe = self._probe_successes = 0
        if self.state == "half_open":
            if self._in_probe >= self.probes:
                return PROBE_WAIT_S, changed
            self._in_probe += 1
        return None, changed

    def record(self, failed: bool, now: float) -> State | None:
        """The outcome of an admitted call; returns the new state if it changed."""
        if self.state == "half_open":
            if failed:
                return self._open(now)
            self._probe_successes += 1
            if self._probe_successes >= self.probes:
                self.state = "closed"
                self._outcomes.clear()
                return "closed"
            return None
        if self.state == "open":  # a call admitted before it opened, answering late
            return None
        self._outcomes.append(failed)
        if (
            len(self._outcomes) >= self.minimum_calls
            and sum(self._outcomes) / len(self._outcomes) >= self.failure_rate
        ):
            return self._open(now)
        return None

    def _open(self, now: float) -> State:
        self.state, self.opened_at = "open", now
        self._outcomes.clear()
        return "open"

    def __repr__(self) -> str:
        return (
            f"breaker({self.failure_rate:.0%} of {self.window} calls (min {self.minimum_calls}), "
            f"open {self.open_for:g}s, {self.probes} probes; {self.state})"
        )


def breaker(
    window: int = 20,
    failure_rate: float = 0.5,
    minimum_calls: int = 10,
    open_for: float = 60.0,
    probes: int = 3,
) -> CircuitBreaker:
    """A circuit breaker; the defaults are Resilience4j's, scaled to a smaller window."""
    if not 0 < failure_rate <= 1 or minimum_calls < 1 or window < minimum_calls or probes < 1:
        raise ValueError(
            "breaker needs 0 < failure_rate <= 1, 1 <= minimum_calls <= window, probes >= 1"
        )
    return CircuitBreaker(window, failure_rate, minimum_calls, open_for, probes)
