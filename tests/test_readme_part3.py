"""Part 3 of README's shell blocks, pasted in order in a fresh copy (tests/test_readme.py)."""

from __future__ import annotations

from pathlib import Path

from tests.test_readme import NEEDS_GIT, paste_part


@NEEDS_GIT
def test_readme_part_3_pastes_in_order_in_a_fresh_copy(tmp_path: Path) -> None:
    paste_part(2, tmp_path)
