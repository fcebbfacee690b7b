"""The studio's JSON answers bad requests with a status and one sentence, never a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from harness.runner import run
from harness.scenario import load
from harness.studio.server import Pane, Session, create_app
from harness.studio.sources import StoredRun


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    out = tmp_path_factory.mktemp("run")
    result = run(load("missing_tax_code", ["duration=6h"]), "reference", 2, run_dir=out / "run")
    return Session([Pane("reference", StoredRun(result.run_dir))])


def ask(session: Session, *requests: tuple[str, str, object]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(session))
        async with httpx.AsyncClient(transport=transport, base_url="http://studio") as client:
            return [await client.request(method, path, json=body)
                    for method, path, body in requests]  # fmt: skip

    return asyncio.run(go())


def test_bad_requests_get_a_status_and_a_sentence(session: Session) -> None:
    answers = ask(
        session,
        ("GET", "/api/panes/3/overview", None),
        ("GET", "/api/panes/0/window?t0=10&t1=5", None),
        ("GET", "/api/panes/0/window?t0=0&t1=5&limit=0", None),
        ("GET", "/api/panes/0/lineage/Q-NOBODY", None),
        ("POST", "/api/panes/0/faults", {"system": "erp", "kind": "outage", "action": "start"}),
        ("POST", "/api/panes/0/load", {"rate": 3}),
    )
    statuses = [answer.status_code for answer in answers]
    assert statuses == [404, 400, 400, 404, 409, 409]
    messages = [answer.json()["error"]["message"] for answer in answers]
    assert messages == [
        "this session has 1 panes",
        "give t0 <= t1 and 1 <= limit <= 2000",
        "give t0 <= t1 and 1 <= limit <= 2000",
        "nothing in this run names Q-NOBODY",
        "faults are started on live services only",
        "the load is set on live services only",
    ]


def test_the_page_and_its_scripts_are_served_from_the_package(session: Session) -> None:
    page, script, described = ask(
        session, ("GET", "/", None), ("GET", "/static/studio.js", None),
        ("GET", "/api/session", None),
    )  # fmt: skip
    assert page.status_code == 200 and "<title>Syncline studio</title>" in page.text
    for name in ("lessons.js", "live.js", "studio.js", "studio.css"):
        assert f"/static/{name}" in page.text
        assert (Path(__file__).parents[2] / "harness/studio/static" / name).is_file()
    assert script.status_code == 200 and "function main()" in script.text
    assert described.json() == {"mode": "replay", "panes": [{"label": "reference", "live": False}]}
