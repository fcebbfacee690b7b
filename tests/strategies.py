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

#: A small price book for contract lives: hardware, software, two support plans of one family.
LIFE_SKUS = ("HW", "SW", "SUP-STD", "SUP-PREM")


@st.composite
def contract_lines(draw: st.DrawFn) -> list[dict[str, object]]:
    """A contract's whole line set: some of the products, each once, with a support plan at
    most (one family, as the shipped catalogue sells it)."""
    plan = draw(st.sampled_from((None, "SUP-STD", "SUP-PREM")))
    skus = [sku for sku in ("HW", "SW") if draw(st.booleans())] + ([plan] if plan else [])
    if not skus:
        skus = ["SW"]
    return [{"sku": sku, "quantity": draw(st.integers(1, 500))} for sku in skus]


#: A contract's life after it is sold: amendments (new lines), renewals (a term) and, perhaps
#: last, its cancellation.
contract_lives = st.tuples(
    contract_lines(),
    st.sampled_from((12, 24, 36)),
    st.lists(
        st.one_of(
            st.tuples(st.just("amendment"), contract_lines()),
            st.tuples(st.just("renewal"), st.sampled_from((12, 24))),
        ),
        max_size=6,
    ),
    st.booleans(),
)
