"""Lessons are data: a broken lesson file gets the place to fix, and the studio command answers
a missing run, an unknown lesson or a taken port with one sentence and exit code 2. (The shipped
lessons' premises are proven in tests/studio/test_played.py.)"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.studio.lessons import LessonError, load_lesson


def test_a_lesson_of_a_trainer_s_own_is_checked_with_the_place_to_fix(tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text(
        "title: t\npattern: p\nscenario: missing_tax_code\nwatch: nothing_lost\n"
        "acts:\n  - design: reference\n    captions:\n      - {at: soon, text: hello}\n"
    )
    with pytest.raises(LessonError, match=r"lesson mine: acts.0.captions.0.at: .*'soon' is not a"):
        load_lesson(str(own))
    own.write_text("title: [unclosed\n")
    with pytest.raises(LessonError, match="lesson mine is not valid YAML"):
        load_lesson(str(own))
    with pytest.raises(LessonError, match=r"no lesson file or shipped lesson named 'nope' \("):
        load_lesson("nope")


def test_the_command_refuses_bad_input_in_one_sentence(tmp_path: Path) -> None:
    runner = CliRunner()
    answer = runner.invoke(main, ["studio", str(tmp_path), "--port", "0"])
    assert answer.exit_code == 2
    assert "is not a run directory: history.jsonl is missing" in answer.output
    answer = runner.invoke(main, ["studio", "--lesson", "nope", "--port", "0"])
    assert answer.exit_code == 2 and "shipped: billing-before-erp" in answer.output
    answer = runner.invoke(main, ["studio", "a", "b", "--design", "reference", "--port", "0"])
    assert answer.exit_code == 2 and "at most two runs" in answer.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        answer = runner.invoke(main, ["studio", str(tmp_path), "--port", str(port)])
    assert answer.exit_code == 2 and f"port {port} on 127.0.0.1" in answer.output
    listed = runner.invoke(main, ["studio", "--lessons"])
    assert listed.exit_code == 0 and "double invoice" in listed.output


def test_the_readme_s_lesson_is_one_the_studio_plays(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\ntitle:", 1)[1].split("```", 1)[0]
    own = tmp_path / "my-lesson.yaml"
    own.write_text("title:" + example, encoding="utf-8")
    name, lesson = load_lesson(str(own))
    assert name == "my-lesson" and lesson.watch == "effect_once"
    assert [act.design for act in lesson.acts] == ["point-to-point", "reference"]
    assert any(caption.at == "breach" and caption.pause for caption in lesson.acts[0].captions)
