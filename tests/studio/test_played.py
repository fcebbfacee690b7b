"""The shipped lessons' runs, played once: each lesson holds its premise on its own seed (the
pattern breaks the watched invariant against its first design, and the last design keeps it),
and the studio's pages over them in headless Chromium: a run played, stepped, jumped to its
failure and an evidence id's lineage shown; two designs on one seed side by side; a lesson
played to its end."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.runner import run
from harness.scenario import load
from harness.studio.command import lesson_session
from harness.studio.lessons import load_lesson, moment_time, shipped_lessons
from harness.studio.server import Pane, Session
from harness.studio.sources import StoredRun
from tests.studio.browser import page_at, studio

FIVE_PATTERNS = {"duplicate-webhook", "out-of-order-event", "billing-before-erp",
                 "missing-tax-code", "support-not-updated"}  # fmt: skip
#: The duplicate storm on seed 1: point-to-point applies copies twice, the reference does not.
STORM = "duplicate_webhook_storm"
SCRUBBER = "Number(document.getElementById('scrubber').value)"
Played = dict[tuple[str, str, int], StoredRun]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Played:
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
    name: str, played: Played
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


def test_a_run_plays_steps_jumps_to_its_failure_and_shows_a_lineage(played: Played) -> None:
    session = Session([Pane("point-to-point", played[STORM, "point-to-point", 1])])
    with studio(session) as url, page_at(f"{url}?speed=21600") as (page, seen):
        page.click("#play")
        page.wait_for_function(f"{SCRUBBER} > 7200")
        page.click("#play")  # pause
        assert page.locator(".pane .log li").count() > 0, "records played into the log"
        assert page.locator(".flow .box[data-system=erp]").count() == 1

        paused = float(page.input_value("#scrubber"))
        page.click("#step")
        page.wait_for_function(f"{SCRUBBER} > {paused}")
        assert "to the next record" in page.inner_text("#failure-note")

        page.wait_for_function("document.querySelector('.judging').textContent === ''")
        marks = httpx.get(f"{url}api/panes/0/marks").json()
        stepped = float(page.input_value("#scrubber"))
        due = next(b for b in marks["breaches"] if b["t"] > stepped + 1e-6)
        page.click("#next-failure")
        page.wait_for_function(
            "document.getElementById('failure-note').textContent.includes('turned to fail')"
        )
        assert float(page.input_value("#scrubber")) == pytest.approx(due["t"], abs=1e-3)
        row = page.locator(f"tr[data-checker={due['checker']}]")
        assert row.get_attribute("data-status") == "fail"

        link = page.locator("tr[data-status=fail] a.id").first
        business_id = link.get_attribute("data-id")
        link.click()
        page.wait_for_function(
            "document.getElementById('lineage-title').textContent.includes('steps')"
        )
        assert business_id in page.inner_text("#lineage-title")
        assert page.locator("#lineage-steps li").count() >= 1
        assert page.locator("#lineage-lanes circle").count() >= 1
    assert seen.problems == []
    assert seen.requests > 10


def test_two_designs_on_one_seed_play_side_by_side(played: Played) -> None:
    session = Session([Pane(d, played[STORM, d, 1]) for d in ("point-to-point", "reference")])
    with studio(session) as url, page_at(url) as (page, seen):
        assert page.locator(".pane").count() == 2
        assert "side by side" in page.inner_text("#mode")
        page.wait_for_function(
            "[...document.querySelectorAll('.judging')].every(j => j.textContent === '')"
        )
        page.evaluate(
            "const s = document.getElementById('scrubber'); s.value = s.max;"
            "s.dispatchEvent(new Event('input'))"
        )
        broken = page.locator("[data-pane='0'] tr[data-checker=effect_once]")
        sound = page.locator("[data-pane='1'] tr[data-checker=effect_once]")
        page.wait_for_function(
            "document.querySelector(\"[data-pane='1'] tr[data-checker=effect_once]\")"
        )
        assert broken.get_attribute("data-status") == "fail"
        assert sound.get_attribute("data-status") == "pass"
    assert seen.problems == []


def test_a_lesson_pauses_at_the_breach_then_shows_the_reference_hold(
    played: Played, tmp_path: Path
) -> None:
    designs = {design: played[STORM, design, 1] for design in ("point-to-point", "reference")}
    session = lesson_session("duplicate-webhook", tmp_path, designs)
    with studio(session) as url, page_at(f"{url}?speed=86400") as (page, seen):
        assert page.is_visible("#lesson")
        assert "double invoice" in page.inner_text("#lesson-title")
        page.wait_for_selector("#continue:visible", timeout=30_000)
        assert page.get_attribute("#caption", "data-at") == "breach"
        assert (
            page.locator("[data-pane='0'] tr[data-checker=effect_once]").get_attribute(
                "data-status"
            )
            == "fail"
        ), "paused the moment effect_once turned to fail"
        assert not page.is_visible("[data-pane='1']")

        page.click("#continue")  # the rest of act 1, to its end
        page.wait_for_selector("#continue:visible", timeout=30_000)
        assert "reference" in page.inner_text("#continue")
        page.click("#continue")  # act 2: the reference, same seed
        assert "Act 2 of 2: reference" in page.inner_text("#lesson-act")
        page.wait_for_selector("#lesson-status[data-done=true]", timeout=30_000)
        sound = page.locator("[data-pane='1'] tr[data-checker=effect_once]")
        assert sound.get_attribute("data-status") == "pass"
        assert "effect_once held" in page.inner_text("#caption")
    assert seen.problems == []
