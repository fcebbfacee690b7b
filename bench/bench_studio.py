"""The studio on a 30-day run: how long its replay takes to open, and what scrubbing reads.

Runs the seed scenario stretched to 30 simulated days (or takes `--run DIR`), then serves it in
the studio in this process and times, through real HTTP on loopback: opening (reading the
history's first pass, then the page, the session, the overview and the first window, as the
browser asks for them), scrubbing to 20 evenly spread times (a window of an hour each, as the
page fetches ahead at 1 h/s), and the running verdicts' second pass, which the page waits for in
the background. Bytes sent are set against the history's size: the page never loads it whole.

    .venv/bin/python bench/bench_studio.py [--days 30] [--seed 7] [--run DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from harness.runner import run
from harness.scenario import load
from harness.studio.server import Pane, Session, create_app
from harness.studio.sources import StoredRun

SCENARIO = "subscription_amendment"
PORT = 8497


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--run", type=Path, help="a run directory to open instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = args.run
        if run_dir is None:
            print(f"running {SCENARIO} for {args.days:g} days, seed {args.seed}…", flush=True)
            scenario = load(SCENARIO, [f"duration={args.days:g}d"])
            run_dir = run(scenario, "reference", args.seed, run_dir=Path(scratch) / "run").run_dir
        measure(run_dir)


def measure(run_dir: Path) -> None:
    history = run_dir / "history.jsonl"
    size = history.stat().st_size
    began = time.perf_counter()
    stored = StoredRun(run_dir)
    first_pass = time.perf_counter() - began
    session = Session([Pane(run_dir.name, stored)])
    server = uvicorn.Server(uvicorn.Config(create_app(session), port=PORT, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    sent = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as client:
        asked = time.perf_counter()
        for path in ("/", "/static/studio.js", "/api/session", "/api/panes/0/overview",
                     "/api/panes/0/window?t0=0&t1=3600&limit=800"):  # fmt: skip
            answer = client.get(path)
            answer.raise_for_status()
            sent += len(answer.content)
        page_s = time.perf_counter() - asked
        browser_s = in_browser(f"http://127.0.0.1:{PORT}/")
        session.judge()  # the second pass starts once the page is up, as `syncline studio` does
        judging = time.perf_counter()
        horizon = stored.overview()["end"]
        scrubs = []
        for step in range(20):
            t0 = horizon * step / 20
            took = time.perf_counter()
            answer = client.get(f"/api/panes/0/window?t0={t0}&t1={t0 + 3600}&limit=800")
            scrubs.append(time.perf_counter() - took)
            sent += len(answer.content)
        while not client.get("/api/panes/0/marks").json()["ready"]:
            time.sleep(0.1)
        judged_s = time.perf_counter() - judging
        marks = client.get("/api/panes/0/marks")
    server.should_exit = True
    thread.join(5)
    records = stored.overview()["records"]
    print(f"{run_dir}: {records:,} records, {size / 2**20:,.0f} MiB of history")
    print(f"  open: first pass {first_pass:.2f} s + page, session, overview and first window "
          f"{page_s:.2f} s = {first_pass + page_s:.2f} s (budget 3 s)")  # fmt: skip
    if browser_s is not None:
        print(f"  in headless Chromium: the page ready (drawn; overview and final verdicts in) "
              f"{browser_s:.2f} s after it was asked for; first pass + page "
              f"{first_pass + browser_s:.2f} s")  # fmt: skip
    median_ms, worst_ms = statistics.median(scrubs) * 1000, max(scrubs) * 1000
    print(f"  scrub: 20 windows of 1 h across the run, median {median_ms:.0f} ms, "
          f"worst {worst_ms:.0f} ms")  # fmt: skip
    print(f"  sent to the page: {sent / 2**20:.2f} MiB ({100 * sent / size:.2f} % of the history),"
          f" running verdicts {len(marks.content) / 2**10:,.0f} KiB")  # fmt: skip
    print(f"  running verdicts ready {judged_s:.1f} s after opening (in the background)")


def in_browser(url: str) -> float | None:
    """Seconds from asking for the page to its being ready, in headless Chromium (None when
    Playwright or Chromium is missing)."""
    try:
        from playwright.sync_api import sync_playwright

        from reports.browser import CHROMIUM_ARGS, chromium
    except ImportError:
        return None
    try:
        executable = chromium()
    except FileNotFoundError:
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page()
        began = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        took = time.perf_counter() - began
        browser.close()
    return took


if __name__ == "__main__":
    main()
