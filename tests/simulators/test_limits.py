"""Rate limits admit what they are configured to admit, and answer as the vendor would."""

from __future__ import annotations

import pytest

from simulators.limits import FixedWindow, LimitAnswer, SlidingWindow, TokenBucket


def test_token_bucket_admits_its_configured_rate_over_a_long_run() -> None:
    """Issue 3, point 5: offered far more than its rate, a bucket admits rate x time (+ burst)."""
    bucket = TokenBucket(rate=10.0, burst=20.0).limiter()
    admitted, now, step = 0, 0.0, 0.01  # 100 requests per second offered, for an hour
    while now < 3600.0:
        admitted += bucket.admit(now) is None
        now += step
    assert admitted == pytest.approx(10.0 * 3600 + 20, rel=0.001)


def test_token_bucket_burst_and_retry_after() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0).limiter()
    assert [bucket.admit(0.0) for _ in range(3)] == [None, None, None]
    assert bucket.admit(0.0) == pytest.approx(0.5)  # the next token comes in half a second
    assert bucket.admit(0.5) is None


def test_fixed_window_resets_on_the_boundary() -> None:
    window = FixedWindow(limit=3, window_s=60.0).limiter()
    assert [window.admit(t) for t in (0, 1, 2)] == [None, None, None]
    assert window.admit(10.0) == pytest.approx(50.0)
    assert window.admit(60.0) is None


def test_sliding_window_counts_the_trailing_window_exactly() -> None:
    window = SlidingWindow(limit=2, window_s=300.0).limiter()
    assert window.admit(0.0) is None and window.admit(100.0) is None
    assert window.admit(200.0) == pytest.approx(100.0)  # the call at 0 leaves at 300
    assert window.admit(300.0) is None
    assert window.admit(350.0) == pytest.approx(50.0)


def test_answers_shape_retry_after_like_the_vendor() -> None:
    assert LimitAnswer(429, "X", "computed").retry_after_for(1.5) == 1.5
    assert LimitAnswer(429, "REQUEST_EXCEEDED_LIMIT", 120.0).retry_after_for(1.5) == 120.0
    assert LimitAnswer(403, "REQUEST_LIMIT_EXCEEDED", None).retry_after_for(1.5) is None
