"""Shared Hypothesis strategies."""

from __future__ import annotations

from hypothesis import strategies as st

#: (text, seconds) pairs of durations as scenario files write them.
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
durations = st.tuples(
    st.integers(min_value=0, max_value=10_000), st.sampled_from(sorted(UNITS))
).map(lambda pair: (f"{pair[0]}{pair[1]}", pair[0] * UNITS[pair[1]]))

latencies = st.tuples(
    st.floats(min_value=0.001, max_value=60.0), st.floats(min_value=1.0, max_value=50.0)
).map(lambda pair: (pair[0], pair[0] * pair[1]))

event_ids = st.text(alphabet="ABCDEF0123456789-", min_size=1, max_size=8)
