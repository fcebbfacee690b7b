"""The public API is what `harness/__init__.py` re-exports: sorted, complete, importable."""

from __future__ import annotations

import harness
from harness import effects


def test_all_is_sorted_and_importable() -> None:
    assert harness.__all__ == sorted(harness.__all__)
    for name in harness.__all__:
        assert getattr(harness, name) is not None


def test_every_effect_is_public() -> None:
    effect_types = {t.__name__ for t in effects.Effect.__args__}  # type: ignore[attr-defined]
    assert effect_types <= set(harness.__all__)
    assert {"Reply", "CallError"} <= set(harness.__all__)
