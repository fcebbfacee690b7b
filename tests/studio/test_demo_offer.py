"""`make demo` ends by offering the studio on the run it just made (at a terminal it asks; in a
pipe, as here, it only says how)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import cli
from harness.cli import main
from harness.scenario import load


def test_the_demo_ends_by_offering_the_studio_on_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo as it is, on a shorter scenario than its eight days."""
    short = load("missing_tax_code", ["duration=3h"])
    monkeypatch.setattr(cli, "load", lambda name: short)
    answer = CliRunner().invoke(main, ["demo", "--out", str(tmp_path)])
    assert answer.exit_code == 0, answer.output
    offer = next(line for line in answer.output.splitlines() if "Watch it happen" in line)
    run_dir = Path(offer.split("syncline studio ", 1)[1])
    assert (run_dir / "history.jsonl").is_file() and run_dir.is_relative_to(tmp_path)
    assert "syncline studio --lesson duplicate-webhook" in answer.output
    assert "Open the studio" not in answer.output, "no question without a terminal"
