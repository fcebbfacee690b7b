"""Open a report in headless Chromium: what a reader's browser would show, and what went wrong.

Used by the browser test and by `make screenshots` (the pictures in docs/). It needs the `dev`
extra (Playwright, driving Debian's own `chromium`; Playwright's browser download is never
used) and `chromium` on the PATH, which `make test` installs when it is absent.

    python -m reports.browser runs/latest/report.html docs/report.png [--width 1280]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Chromium on a machine with a closed network: no first-run, sync or background traffic.
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
#: A page's images: whether each loaded and decoded (a broken one has no natural width).
_IMAGES = """Array.from(document.images).map(i => ({
    alt: i.alt, loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth}))"""


@dataclass
class PageCheck:
    """What the browser saw."""

    title: str = ""
    errors: list[str] = field(default_factory=list)  # console errors, page errors, failed loads
    images: int = 0
    broken_images: list[str] = field(default_factory=list)  # their alt texts
    height: int = 0  # of the whole page, in CSS pixels

    @property
    def clean(self) -> bool:
        return not self.errors and not self.broken_images


def chromium() -> str:
    """The Chromium executable, or a sentence saying how to get it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise FileNotFoundError(
            "Chromium is not installed: run `make browser` (Debian's `apt-get install chromium`)"
        )
    return found


def check_page(
    page_file: Path,
    screenshot: Path | None = None,
    width: int = 1280,
    height: int = 900,
    full_page: bool = True,
    anchor: str = "",
) -> PageCheck:
    """Load `page_file` in headless Chromium, collect errors and image loads, and (optionally)
    take a screenshot of the whole page, or of the viewport at `anchor`."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev dependency

    seen = PageCheck()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on(
                "console",
                lambda m: seen.errors.append(f"console: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: seen.errors.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: seen.errors.append(f"failed to load {r.url[:80]}"))
            page.goto(page_file.resolve().as_uri() + (f"#{anchor}" if anchor else ""))
            page.wait_for_load_state("load")
            seen.title = page.title()
            images = page.evaluate(_IMAGES)
            seen.images = len(images)
            seen.broken_images = [image["alt"] for image in images if not image["loaded"]]
            seen.height = int(page.evaluate("document.documentElement.scrollHeight"))
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=full_page and not anchor)
        finally:
            browser.close()
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.browser", description=__doc__)
    parser.add_argument("page", type=Path)
    parser.add_argument("screenshot", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--anchor", default="", help="an element id to scroll to")
    parser.add_argument("--viewport-only", action="store_true")
    options = parser.parse_args(argv)
    if not options.page.is_file():
        print(f"{options.page} does not exist: give the path of a report.html", file=sys.stderr)
        return 2
    try:
        seen = check_page(
            options.page, options.screenshot, options.width, options.height,
            full_page=not options.viewport_only, anchor=options.anchor,
        )  # fmt: skip
    except FileNotFoundError as missing:
        print(missing, file=sys.stderr)
        return 2
    print(f"{options.screenshot}: {seen.images} images, {len(seen.broken_images)} broken, "
          f"{len(seen.errors)} errors")  # fmt: skip
    for error in seen.errors:
        print(f"  {error}")
    return 0 if seen.clean else 1


if __name__ == "__main__":
    sys.exit(main())
