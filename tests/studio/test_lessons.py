"""Lessons are data: each shipped one holds its premise on its own seed (the pattern breaks the
watched invariant against its first design, and the last design keeps it), and a broken lesson
file, a missing run or a taken port gets one sentence and exit code 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.runner import run
from harness.scenario import load
from harness.studio.lessons import LessonError, load_lesson, moment_time, shipped_lessons
from harness.studio.sources import StoredRun

FIVE_PATTERNS = {"duplicate-webhook", "out-of-order-event", "billing-before-erp",
                 "missing-tax-code", "support-not-updated"}  # fmt: skip


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, int], StoredRun]:
    """Every (scenario, design, seed) the shipped lessons play, run and judged once."""
    out, found = tmp_path_factory.mktemp("lessons"), {}
    for name in shipped_lessons():
        lesson = load_lesson(name)[1]
        for design in lesson.designs:
            key = (lesson.scenario, design, lesson.seed)
            if key not in found:
                scenario = load(lesson.scenario, lesson.set)
                result = run(scenario, design, lesson.seed, run_dir=out / "-".join(map(str, key)))
                found[key] = StoredRun(result.run_dir)
                found[key].judge()
    return found


def test_one_lesson_per_failure_pattern_of_the_seed_document_is_shipped() -> None:
    assert set(shipped_lessons()) == FIVE_PATTERNS


@pytest.mark.parametrize("name", sorted(FIVE_PATTERNS))
def test_each_lesson_breaks_its_invariant_first_and_holds_it_last(
    name: str, played: dict[tuple[str, str, int], StoredRun]
) -> None:
    lesson = load_lesson(name)[1]
    first, last = (played[(lesson.scenario, act.design, lesson.seed)]
                   for act in (lesson.acts[0], lesson.acts[-1]))  # fmt: skip
    marks = first.marks()
    breach = moment_time("breach", first.overview(), marks, lesson.watch, {})
    assert breach is not None, f"{lesson.acts[0].design} never broke {lesson.watch}"
    assert any(c.at == "breach" and c.pause for c in lesson.acts[0].captions)
    final = {v["checker"]: v["status"] for v in last.summary["checkers"]}
    assert final[lesson.watch] == "pass", f"{lesson.acts[-1].design} broke {lesson.watch}"
    for act in lesson.acts:
        source = played[(lesson.scenario, act.design, lesson.seed)]
        for caption in act.captions:
            if caption.at.startswith(("fault:", "breach:")):
                found = moment_time(caption.at, source.overview(), source.marks(),
                                    lesson.watch, {})  # fmt: skip
                assert found is not None, f"{name}: {caption.at} never happens"


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
