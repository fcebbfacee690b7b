"""Latency models: how long a vendor takes to answer, drawn from the profile's own stream.

No vendor publishes p50/p95 API latency (vendor-behaviour.md), so every model is easy to fit to
what a team has measured: a fixed value, a uniform range, a lognormal from a median and a 99th
percentile (or median and sigma), an exponential (for queueing theory), or empirical quantiles.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

#: z-score of the 99th percentile of the standard normal distribution.
Z99 = 2.3263478740408408


@dataclass(frozen=True, slots=True)
class Fixed:
    seconds: float

    def sample(self, rng: random.Random) -> float:
        return self.seconds

    def __repr__(self) -> str:
        return f"fixed({self.seconds:g}s)"


@dataclass(frozen=True, slots=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError(f"uniform latency needs 0 <= low <= high, got {self.low}..{self.high}")

    def sample(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)

    def __repr__(self) -> str:
        return f"uniform({self.low:g}s..{self.high:g}s)"


@dataclass(frozen=True, slots=True)
class Exponential:
    mean: float

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean)

    def __repr__(self) -> str:
        return f"exponential(mean={self.mean:g}s)"


@dataclass(frozen=True, slots=True)
class Lognormal:
    """Lognormal latency, with an optional cap (a gateway timeout, say)."""

    median: float
    sigma: float
    cap: float | None = None

    def __post_init__(self) -> None:
        if self.median <= 0 or self.sigma < 0:
            raise ValueError("lognormal latency needs median > 0 and sigma >= 0")

    @classmethod
    def from_percentiles(cls, p50: float, p99: float, cap: float | None = None) -> Lognormal:
        """Fitted to a median and a 99th percentile."""
        if not 0 < p50 <= p99:
            raise ValueError(f"latency needs 0 < p50 <= p99, got p50={p50} p99={p99}")
        return cls(p50, (math.log(p99) - math.log(p50)) / Z99, cap)

    @property
    def p99(self) -> float:
        return self.median * math.exp(self.sigma * Z99)

    def sample(self, rng: random.Random) -> float:
        value = rng.lognormvariate(math.log(self.median), self.sigma)
        return value if self.cap is None else min(value, self.cap)

    def __repr__(self) -> str:
        cap = f", cap={self.cap:g}s" if self.cap is not None else ""
        return f"lognormal(p50={self.median:g}s, p99={self.p99:.3g}s{cap})"


@dataclass(frozen=True, slots=True)
class Empirical:
    """Inverse-CDF sampling from measured quantiles, interpolating linearly between them.

    `points` are (fraction, seconds) pairs from 0.0 to 1.0, both non-decreasing.
    """

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        fractions = [q for q, _ in self.points]
        values = [v for _, v in self.points]
        if len(self.points) < 2 or fractions[0] != 0.0 or fractions[-1] != 1.0:
            raise ValueError("empirical latency needs quantiles from p0 to p100")
        if fractions != sorted(fractions) or values != sorted(values) or values[0] < 0:
            raise ValueError("empirical quantiles must not decrease")

    def sample(self, rng: random.Random) -> float:
        u = rng.random()
        fractions = [q for q, _ in self.points]
        index = min(bisect.bisect_right(fractions, u), len(self.points) - 1)
        (q0, v0), (q1, v1) = self.points[index - 1], self.points[index]
        return v0 if q1 == q0 else v0 + (v1 - v0) * (u - q0) / (q1 - q0)

    def __repr__(self) -> str:
        shown = ", ".join(f"p{q * 100:g}={v:g}s" for q, v in self.points)
        return f"empirical({shown})"


Latency = Fixed | Uniform | Exponential | Lognormal | Empirical


def percentile_points(quantiles: Sequence[tuple[float, float]]) -> Empirical:
    """An empirical model from (percentile 0-100, seconds) pairs."""
    return Empirical(tuple((q / 100.0, v) for q, v in sorted(quantiles)))
