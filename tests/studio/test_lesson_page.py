"""A shipped lesson played to its end in headless Chromium: it pauses where the invariant breaks
against point-to-point, then replays the seed against the reference, where it holds."""

from __future__ import annotations

from pathlib import Path

from harness.studio.command import _lesson
from tests.studio.browser import page_at, studio


def test_a_lesson_pauses_at_the_breach_then_shows_the_reference_hold(tmp_path: Path) -> None:
    session = _lesson("duplicate-webhook", tmp_path / "runs")
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
