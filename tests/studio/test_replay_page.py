"""The studio in headless Chromium over stored runs: play, step, jump to the failure, follow an
evidence id's lineage; and two designs on one seed, side by side."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.runner import run
from harness.scenario import load
from harness.studio.server import Pane, Session
from harness.studio.sources import StoredRun
from tests.studio.browser import page_at, studio

SCRUBBER = "Number(document.getElementById('scrubber').value)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A day of the duplicate storm, seed 1: point-to-point applies copies twice, the
    reference does not."""
    out = tmp_path_factory.mktemp("runs")
    scenario = load("duplicate_webhook_storm", ["duration=1d"])
    return {
        design: run(scenario, design, 1, run_dir=out / design).run_dir
        for design in ("point-to-point", "reference")
    }


def test_a_run_plays_steps_jumps_to_its_failure_and_shows_a_lineage(runs: dict[str, Path]) -> None:
    session = Session([Pane("point-to-point", StoredRun(runs["point-to-point"]))])
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


def test_two_designs_on_one_seed_play_side_by_side(runs: dict[str, Path]) -> None:
    session = Session([Pane(d, StoredRun(path)) for d, path in runs.items()])
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
