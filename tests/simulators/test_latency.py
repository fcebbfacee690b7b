"""Latency models sample what they claim (fixed seeds; no wall clock)."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings

from simulators.latency import Empirical, Exponential, Fixed, Lognormal, Uniform, percentile_points
from tests.strategies import latencies


def draws(model: object, count: int = 20_000, seed: int = 42) -> list[float]:
    rng = random.Random(seed)
    return sorted(model.sample(rng) for _ in range(count))  # type: ignore[attr-defined]


def quantile(ordered: list[float], q: float) -> float:
    return ordered[int(q * (len(ordered) - 1))]


def test_lognormal_p50_and_p99_within_3_percent() -> None:
    """Issue 3, point 5: over a long seeded run the configured percentiles come back."""
    model = Lognormal.from_percentiles(1.2, 6.0)
    ordered = draws(model, 400_000, seed=7)
    assert quantile(ordered, 0.50) == pytest.approx(1.2, rel=0.03)
    assert quantile(ordered, 0.99) == pytest.approx(6.0, rel=0.03)


@settings(max_examples=20, deadline=None)
@given(latencies)
def test_lognormal_fit_for_any_percentiles(pair: tuple[float, float]) -> None:
    p50, p99 = pair
    ordered = draws(Lognormal.from_percentiles(p50, p99), 50_000)
    assert quantile(ordered, 0.50) == pytest.approx(p50, rel=0.05)
    assert quantile(ordered, 0.99) == pytest.approx(p99, rel=0.15)


def test_lognormal_median_sigma_cap_and_validation() -> None:
    capped = draws(Lognormal(1.0, 2.0, cap=5.0), 5000)
    assert capped[-1] == 5.0 and capped[0] < 1.0
    assert Lognormal(2.0, 0.0).sample(random.Random(1)) == 2.0
    assert repr(Lognormal.from_percentiles(1, 10)) == "lognormal(p50=1s, p99=10s)"
    with pytest.raises(ValueError, match="p50 <= p99"):
        Lognormal.from_percentiles(2.0, 1.0)


def test_fixed_uniform_exponential() -> None:
    assert set(draws(Fixed(0.5), 100)) == {0.5}
    uniform = draws(Uniform(1.0, 3.0))
    assert uniform[0] >= 1.0 and uniform[-1] <= 3.0
    assert statistics.mean(uniform) == pytest.approx(2.0, rel=0.02)
    assert statistics.mean(draws(Exponential(4.0), 100_000)) == pytest.approx(4.0, rel=0.02)
    with pytest.raises(ValueError):
        Uniform(3.0, 1.0)


def test_empirical_quantiles_are_reproduced() -> None:
    model = percentile_points([(0, 0.1), (50, 0.4), (90, 1.0), (100, 3.0)])
    ordered = draws(model, 100_000)
    assert quantile(ordered, 0.5) == pytest.approx(0.4, rel=0.02)
    assert quantile(ordered, 0.9) == pytest.approx(1.0, rel=0.02)
    assert ordered[0] >= 0.1 and ordered[-1] <= 3.0
    with pytest.raises(ValueError, match="p0 to p100"):
        Empirical(((0.5, 1.0), (1.0, 2.0)))
    with pytest.raises(ValueError, match="must not decrease"):
        Empirical(((0.0, 2.0), (1.0, 1.0)))
