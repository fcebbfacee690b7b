"""The studio's pictures in docs/, taken by the tests' own browser (`make screenshots`).

    .venv/bin/python -m tests.studio.capture docs/

Replay (the duplicate storm against point-to-point, at its first failure, with a lineage open),
side by side (the same seed against the reference), a lesson paused at its breach, live control
with ERP down, and a short animated GIF of the lesson's first act up to its breach.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

from harness.runner import run
from harness.scenario import load
from harness.studio.command import lesson_session
from harness.studio.live import LiveRun
from harness.studio.server import Pane, Session
from harness.studio.sources import StoredRun
from tests.live.test_end_to_end import Live, wait_until_up
from tests.studio.browser import page_at, studio

FRAMES = 160
READY = "[...document.querySelectorAll('.judging')].every(j => j.textContent === '')"


def capture(docs: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        scenario = load("duplicate_webhook_storm", ["duration=1d"])
        runs = {d: run(scenario, d, 1, run_dir=out / d).run_dir
                for d in ("point-to-point", "reference")}  # fmt: skip
        replay(Session([Pane("point-to-point", StoredRun(runs["point-to-point"]))]), docs)
        side_by_side(Session([Pane(d, StoredRun(p)) for d, p in runs.items()]), docs)
        lesson(out, docs)
        live(out, docs)


def replay(session: Session, docs: Path) -> None:
    with studio(session) as url, page_at(f"{url}?speed=3600") as (page, _):
        page.wait_for_function(READY)
        page.click("#play")
        time.sleep(4)
        page.click("#play")
        page.click("#next-failure")
        page.wait_for_function(
            "document.getElementById('failure-note').textContent.includes('fail')"
        )
        page.locator("tr[data-status=fail] a.id").first.click()
        page.wait_for_function(
            "document.getElementById('lineage-title').textContent.includes('steps')"
        )
        page.screenshot(path=docs / "studio-lineage.png")


def side_by_side(session: Session, docs: Path) -> None:
    with studio(session) as url, page_at(f"{url}?speed=7200", width=1600) as (page, _):
        page.wait_for_function(READY)
        page.click("#play")
        time.sleep(6)
        page.click("#play")
        page.screenshot(path=docs / "studio-side-by-side.png")


def lesson(out: Path, docs: Path) -> None:
    """The lesson's first act to its breach, as a still and as an animated GIF: frames the
    browser takes as it plays, put together by Pillow (Playwright's own video needs an ffmpeg
    download this project does without)."""
    session = lesson_session("duplicate-webhook", out / "runs")
    with studio(session) as url, page_at(f"{url}?speed=300", width=1200) as (page, _):
        frames = []
        while not page.is_visible("#continue") and len(frames) < FRAMES:
            frames.append(page.screenshot(clip={"x": 0, "y": 0, "width": 1200, "height": 760}))
            time.sleep(0.12)
        for _ in range(12):  # the film lingers on the breach
            frames.append(page.screenshot(clip={"x": 0, "y": 0, "width": 1200, "height": 760}))
        page.screenshot(path=docs / "studio-lesson.png")
    film(frames, docs / "studio-lesson.gif")


def film(frames: list[bytes], path: Path) -> None:
    from PIL import Image

    pictures = [Image.open(io.BytesIO(frame)).convert("RGB").resize((840, 532)) for frame in frames]
    palette = pictures[-1].quantize(colors=128)
    shown = [picture.quantize(palette=palette, dither=Image.Dither.NONE) for picture in pictures]
    shown[0].save(path, save_all=True, append_images=shown[1:], duration=150, loop=0,
                  optimize=True)  # fmt: skip


def live(out: Path, docs: Path) -> None:
    services = Live(out / "live")
    (out / "live").mkdir()
    with services.serve("--orchestrator", "reference", "--set", "faults=[]",
                        time_scale="60") as served:  # fmt: skip
        wait_until_up(f"http://127.0.0.1:{services.base}", served)
        wait_until_up(services.orchestrator_url, served, seconds=30)
        with studio(Session([Pane("live", LiveRun(services.services))])) as url, \
                page_at(url) as (page, _):  # fmt: skip
            page.fill("#rate", "4")
            page.dispatch_event("#rate", "change")
            time.sleep(6)
            page.click("#fault-erp-outage")
            page.wait_for_selector(".flow .box[data-system=erp][data-state=outage]")
            time.sleep(8)
            page.screenshot(path=docs / "studio-live.png", full_page=True)


if __name__ == "__main__":
    capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
