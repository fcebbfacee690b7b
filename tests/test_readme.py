"""README's shell blocks, pasted in order into a fresh copy of the repository.

Every ```sh block runs, line by line, as a newcomer would paste it; a command whose trailing
comment says `exit N` must exit N, every other must exit 0. A block is left out only when an
HTML comment right before it says why (`<!-- not pasted by tests/test_readme.py: REASON -->`):
servers that run until stopped, `make` targets that set up the machine or run this suite, and
the long benchmarks and swarms, which CI runs its own way.

The README is pasted in parts, each in a fresh copy of its own, so they run side by side on the
suite's workers (tests/test_readme_part2.py, ...): a part starts at a block whose comment says
`<!-- tests/test_readme.py pastes from here in a fresh copy of its own -->`, one that needs
nothing the blocks before it made.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SKIP = re.compile(r"<!-- not pasted by tests/test_readme\.py: (?P<why>[^>]+) -->\s*$")
PART = "<!-- tests/test_readme.py pastes from here in a fresh copy of its own -->"
#: The parts, one test each (this file's, then tests/test_readme_part2.py, ...).
PARTS = 3
FENCE = re.compile(r"^```(sh|bash)\n(?P<body>.*?)^```", re.S | re.M)
EXPECTED = re.compile(r"#.*\bexit (?P<code>\d)\b")


@dataclass(frozen=True)
class Command:
    line: int
    text: str
    expected: int


def blocks(readme: str) -> tuple[list[list[Command]], list[str]]:
    """The blocks to paste, and the reasons given for those left out."""
    parts, skipped = _parts(readme)
    return [block for part in parts for block in part], skipped


def _parts(readme: str) -> tuple[list[list[list[Command]]], list[str]]:
    """The blocks to paste, in their parts, and the reasons given for those left out."""
    parts: list[list[list[Command]]] = [[]]
    skipped = []
    for match in FENCE.finditer(readme):
        before = readme[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        reason = SKIP.match(before.strip())
        if reason:
            skipped.append(reason.group("why"))
            continue
        if before.strip() == PART:
            parts.append([])
        first = readme[: match.start("body")].count("\n") + 1
        parts[-1].append(list(_commands(match.group("body"), first)))
    return parts, skipped


def _commands(body: str, first_line: int) -> list[Command]:
    found, pending, start = [], "", first_line
    for offset, line in enumerate(body.splitlines()):
        if not pending:
            start = first_line + offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if not text or text.startswith("#"):
            continue
        expected = EXPECTED.search(text)
        found.append(Command(start, text, int(expected.group("code")) if expected else 0))
    return found


def test_every_block_left_out_says_why() -> None:
    pasted, skipped = blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert all(reason.strip() for reason in skipped)
    commands = sum(len(block) for block in pasted)
    assert commands >= 30 and len(skipped) <= 13, (commands, skipped)  # most of it is pasted


def fresh_copy(target: Path) -> Path:
    """The repository's files as a clone has them, with this machine's .venv."""
    listed = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source, copy = ROOT / name, target / name
        if source.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
    (target / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return target


def test_the_readme_is_in_as_many_parts_as_there_are_tests() -> None:
    parts, _ = _parts((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(parts) == PARTS and all(parts), [len(part) for part in parts]


def paste_part(index: int, tmp_path: Path) -> None:
    """Paste part `index` of the README in order, in a fresh copy, checking each exit code."""
    parts, _ = _parts((ROOT / "README.md").read_text(encoding="utf-8"))
    work = fresh_copy(tmp_path / "syncline")
    environment = {**os.environ, "PYTHONPATH": str(work), "NO_COLOR": "1"}
    environment.pop("PYTEST_XDIST_WORKER", None)
    for block in parts[index]:
        for command in block:
            done = subprocess.run(
                ["bash", "-c", command.text], check=False, cwd=work, env=environment,
                capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            assert done.returncode == command.expected, (
                f"README.md:{command.line}: `{command.text}` exited {done.returncode}, "
                f"not {command.expected}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )


NEEDS_GIT = pytest.mark.skipif(
    not (ROOT / ".git").exists(), reason="needs the repository's git files"
)


@NEEDS_GIT
def test_readme_pastes_in_order_in_a_fresh_copy(tmp_path: Path) -> None:
    paste_part(0, tmp_path)
