"""The studio driving live services in headless Chromium: the load slider sells quotes, a
button opens an ERP outage through serve's admin endpoint, and the page shows ERP down and the
checkers judging what the outage does; a vendor upgrade and an orchestrator crash (a real
SIGKILL, then the restart) from their buttons."""

from __future__ import annotations

from pathlib import Path

import httpx

from harness.studio.live import LiveRun
from harness.studio.server import Pane, Session
from tests.live.test_end_to_end import Live, wait_until_up
from tests.studio.browser import page_at, studio

ROWS = "[...document.querySelectorAll('tr[data-checker]')]"


def test_an_erp_outage_started_from_the_page_shows_on_erp_and_in_the_checkers(
    tmp_path: Path,
) -> None:
    live = Live(tmp_path)
    with live.serve("--orchestrator", "reference", "--set", "faults=[]",
                    time_scale="60") as served:  # fmt: skip
        wait_until_up(f"http://127.0.0.1:{live.base}", served)
        wait_until_up(live.orchestrator_url, served, seconds=30)
        session = Session([Pane("live", LiveRun(live.services))])
        with studio(session) as url, page_at(url) as (page, seen):
            assert "live" in page.inner_text("#mode")
            page.fill("#rate", "4")
            page.dispatch_event("#rate", "change")
            page.wait_for_function("document.getElementById('sold').textContent.match(/^[1-9]/)")
            page.wait_for_function(f"{ROWS}.some(r => r.dataset.checker === 'cpq_to_erp')")
            assert page.get_attribute(".flow .box[data-system=erp]", "data-state") == "up"
            hygiene = "document.querySelector('tr[data-checker=retry_hygiene]').innerText"
            # the most attempts any request took; 0 while the row names none yet (no calls
            # judged when the page is this early on a loaded machine)
            most = f"Number(({hygiene}.match(/at most ([0-9.]+) attempts/) || [0, 0])[1])"
            before = page.evaluate(most)  # ERP's own limits may already have caused a retry
            in_flight = "Number(document.querySelector('[data-figure=in_flight]').textContent)"

            page.click("#fault-erp-outage")
            page.wait_for_selector(".flow .box[data-system=erp][data-state=outage]")
            assert "on" in (page.get_attribute("#fault-erp-outage", "class") or "")
            assert "started outage on erp" in page.inner_text("#control-status")
            held = page.evaluate(in_flight)
            # The reference retries ERP's refusals: the retry checker now names ERP as the
            # system asked most often, more often than any request before the outage, and work
            # piles up in flight behind it.
            page.wait_for_function(
                f"{hygiene}.includes('attempts per request (erp)') && {most} > {before}"
            )
            page.wait_for_function(f"{in_flight} > {held}")
            page.click("#fault-erp-outage")
            page.wait_for_selector(".flow .box[data-system=erp][data-state=up]")

            # The kinds serve enacts itself: a vendor's new event schema, and a real SIGKILL
            # of the orchestrator it supervises, restarted when the crash is stopped.
            page.click("#fault-billing-vendor_upgrade")
            page.wait_for_selector(".flow .box[data-system=billing][data-state=vendor_upgrade]")
            crash, orchestrator = (
                "#fault-orchestrator-orchestrator_crash",
                ".box[data-system=orchestrator]",
            )
            page.click(crash)
            page.wait_for_selector(f"{orchestrator}[data-state=orchestrator_crash]")
            page.click(crash)
            page.wait_for_function("document.getElementById('control-status').textContent"
                                   ".startsWith('stopped orchestrator crash')")  # fmt: skip
            page.wait_for_selector(f"{orchestrator}[data-state=up]")
            assert httpx.get(f"{live.orchestrator_url}/healthz").status_code == 200, "restarted"
        assert seen.problems == []
    history = (live.services / "history.jsonl").read_text()
    assert '"fault":"outage","phase":"start"' in history
    assert '"fault":"outage","phase":"stop"' in history
    assert '"fault":"vendor_upgrade","phase":"start","params":{"schema_version":2}' in history
    crash = '"system":"orchestrator","fault":"orchestrator_crash","phase":'
    assert f'{crash}"start"' in history and f'{crash}"stop"' in history
