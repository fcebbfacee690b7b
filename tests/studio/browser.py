"""The studio served in-process on a free port, and a headless Chromium page that records every
console error, page error, failed request and error answer it meets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from harness.studio.server import Session, create_app
from reports.browser import CHROMIUM_ARGS, chromium
from tests.live.test_end_to_end import free_port


@contextmanager
def studio(session: Session) -> Iterator[str]:
    """The studio's URL while it serves `session`."""
    port = free_port()
    session.judge()
    server = uvicorn.Server(
        uvicorn.Config(create_app(session), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the studio did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Seen:
    problems: list[str] = field(default_factory=list)
    requests: int = 0


@contextmanager
def page_at(url: str, video: Path | None = None, width: int = 1400) -> Iterator[tuple[Any, Seen]]:
    """A Playwright page open at `url`, ready (the page sets body[data-ready]), and what went
    wrong on it; with `video`, the page is recorded into that directory (WebM)."""
    from playwright.sync_api import sync_playwright

    seen = Seen()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        size = {"width": width, "height": 1000}
        context = browser.new_context(
            viewport=size, **({"record_video_dir": str(video), "record_video_size": size}
                              if video is not None else {}),
        )  # fmt: skip
        page = context.new_page()
        page.on("console", lambda m: seen.problems.append(f"console: {m.text}")
                if m.type == "error" else None)  # fmt: skip
        page.on("pageerror", lambda e: seen.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: seen.problems.append(f"failed: {r.url}"))

        def answered(response: Any) -> None:
            seen.requests += 1
            if response.status >= 400:
                seen.problems.append(f"{response.status}: {response.url}")

        page.on("response", answered)
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]", timeout=30_000)
            yield page, seen
        finally:
            context.close()
            browser.close()
