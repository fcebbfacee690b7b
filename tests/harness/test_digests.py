"""The compact memory of keys: the same answers as a dict, across folds into the arrays."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import harness.digests as digests_module
from harness.digests import Digests, digest


@given(st.lists(st.tuples(st.text(min_size=1, max_size=6), st.integers(0, 255)), max_size=60))
def test_digests_answer_as_a_dict_would(pairs: list[tuple[str, int]]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(digests_module, "FOLD_AT", 4)  # fold often: most keys live in the arrays
        table, expected = Digests(), {}
        for key, code in pairs:
            assert table.set(key, code) == expected.get(key)
            expected[key] = code
        for key, code in expected.items():
            assert table.get(key) == code and key in table
        assert len(table) == len(expected)
        assert sorted(table.codes()) == sorted(expected.values())
        assert "never-set" not in table or "never-set" in expected


def test_a_digest_is_the_same_on_every_machine_and_process() -> None:
    assert digest("Q-000101") == 0x7D5C2E9E35ECCD72  # BLAKE2b, not Python's salted hash
    assert digest("a") != digest("b")
