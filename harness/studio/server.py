"""The studio's web app: the page, and the JSON it plays from.

A session shows one or more panes (a stored run, or live services), side by side when there
are two, and may carry a lesson. Every pane answers the same routes:

    GET  /api/session                       panes, mode, the lesson with its captions' times
    GET  /api/panes/<i>/overview            run, systems, fault windows, figures per bucket
    GET  /api/panes/<i>/window?t0=&t1=      records of a time window (sampled past `limit`)
    GET  /api/panes/<i>/marks               the checkers' running verdicts, and their breaches
    GET  /api/panes/<i>/lineage/<id>        the life of a business id (`syncline trace`)
    POST /api/panes/<i>/faults              live: {system, kind, action, params} to serve
    POST /api/panes/<i>/load                live: {rate} quotes a second from the sales floor

Nothing leaves the machine: the page and its script are files beside this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from harness.studio.lessons import Lesson, moment_time
from harness.studio.live import MAX_RATE, LiveRun
from harness.studio.sources import WINDOW_LIMIT, StoredRun

STATIC = Path(__file__).with_name("static")
Source = StoredRun | LiveRun


@dataclass
class Pane:
    label: str
    source: Source


@dataclass
class Session:
    panes: list[Pane]
    lesson: Lesson | None = None
    lesson_name: str = ""

    @property
    def mode(self) -> str:
        if self.lesson is not None:
            return "lesson"
        if any(pane.source.live for pane in self.panes):
            return "live"
        return "side" if len(self.panes) > 1 else "replay"

    def judge(self) -> None:
        """Start every stored run's second pass (the running verdicts) in the background."""
        for pane in self.panes:
            if isinstance(pane.source, StoredRun):
                pane.source.judge_in_background()

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "mode": self.mode,
            "panes": [{"label": p.label, "live": p.source.live} for p in self.panes],
        }
        if self.lesson is not None:
            found["lesson"] = self._lesson()
        return found

    def _lesson(self) -> dict[str, Any]:
        """The lesson with each caption's time in its act's run (None: never reached)."""
        assert self.lesson is not None
        acts = []
        for index, act in enumerate(self.lesson.acts):
            source = self.panes[index].source
            assert isinstance(source, StoredRun)
            overview, marks = source.overview(), source.marks()
            if not marks["ready"]:
                return {"ready": False}
            events = {
                caption.at[6:]: source.first_event(caption.at[6:])
                for caption in act.captions
                if caption.at.startswith("event:")
            }
            captions = [
                {**caption.model_dump(),
                 "t": moment_time(caption.at, overview, marks, self.lesson.watch,
                                  {k: v for k, v in events.items() if v is not None})}
                for caption in act.captions
            ]  # fmt: skip
            acts.append({"design": act.design, "pane": index, "captions": captions})
        return {
            "ready": True, "name": self.lesson_name, "title": self.lesson.title,
            "pattern": self.lesson.pattern, "watch": self.lesson.watch, "acts": acts,
        }  # fmt: skip


def create_app(session: Session) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = []
        for pane in session.panes:
            if isinstance(pane.source, LiveRun):
                tasks += [asyncio.create_task(pane.source.watch(stop)),
                          asyncio.create_task(pane.source.drive(stop))]  # fmt: skip
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = FastAPI(title="Syncline studio", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def pane(index: int) -> Source | JSONResponse:
        if not 0 <= index < len(session.panes):
            return _refused(404, "no_pane", f"this session has {len(session.panes)} panes")
        return session.panes[index].source

    def live_pane(index: int, what: str) -> LiveRun | JSONResponse:
        source = pane(index)
        if isinstance(source, JSONResponse | LiveRun):
            return source
        return _refused(409, "not_live", f"{what} on live services only")

    @app.get("/")
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/session")
    async def describe() -> dict[str, Any]:
        return session.describe()

    @app.get("/api/panes/{index}/overview")
    async def overview(index: int) -> Any:
        source = pane(index)
        return source if isinstance(source, JSONResponse) else source.overview()

    @app.get("/api/panes/{index}/window")
    async def window(
        index: int, t0: float, t1: float, limit: int = WINDOW_LIMIT, head: bool = False
    ) -> Any:
        source = pane(index)
        if isinstance(source, JSONResponse):
            return source
        if t1 < t0 or not 1 <= limit <= WINDOW_LIMIT:
            return _refused(400, "bad_window", f"give t0 <= t1 and 1 <= limit <= {WINDOW_LIMIT}")
        found = await asyncio.to_thread(source.window, t0, t1, limit, head)
        return found.as_dict()

    @app.get("/api/panes/{index}/marks")
    async def marks(index: int) -> Any:
        source = pane(index)
        if isinstance(source, JSONResponse):
            return source
        return source.marks_answer() if isinstance(source, LiveRun) else source.marks()

    @app.get("/api/panes/{index}/lineage/{business_id}")
    async def lineage(index: int, business_id: str) -> Any:
        source = pane(index)
        if isinstance(source, JSONResponse):
            return source
        steps = await asyncio.to_thread(_lineage, source, business_id)
        if not steps:
            return _refused(404, "unknown_id", f"nothing in this run names {business_id}")
        return {"business_id": business_id, "steps": steps}

    @app.post("/api/panes/{index}/faults")
    async def fault(index: int, request: Request) -> Any:
        source = live_pane(index, "faults are started")
        if isinstance(source, JSONResponse):
            return source
        body = await _json(request)
        if body is None or not {"system", "kind", "action"} <= body.keys():
            return _refused(400, "bad_fault", "give {system, kind, action[, params]}")
        params = body.get("params") or {}
        status, answer = await source.fault(str(body["system"]), str(body["kind"]),
                                            str(body["action"]), params)  # fmt: skip
        return JSONResponse(answer, status)

    @app.post("/api/panes/{index}/load")
    async def load(index: int, request: Request) -> Any:
        source = live_pane(index, "the load is set")
        if isinstance(source, JSONResponse):
            return source
        body = await _json(request)
        rate = body.get("rate") if body is not None else None
        if not isinstance(rate, int | float) or not 0 <= rate <= MAX_RATE:
            return _refused(400, "bad_rate", f"give {{rate}} from 0 to {MAX_RATE:g} a second")
        source.rate = float(rate)
        return {"rate": source.rate}

    return app


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _refused(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


def _lineage(source: Source, business_id: str) -> list[dict[str, Any]]:
    if isinstance(source, StoredRun):
        return _stored_lineage(source.directory, source.history.stat().st_mtime, business_id)
    from reports.lineage import trace  # noqa: PLC0415 - matplotlib, only when asked

    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "history.jsonl").write_bytes(b"\n".join(source.lines) + b"\n")
        return [asdict(step) for step in trace(Path(scratch), business_id)]


@lru_cache(maxsize=64)
def _stored_lineage(directory: Path, _mtime: float, business_id: str) -> list[dict[str, Any]]:
    from reports.lineage import trace  # noqa: PLC0415 - matplotlib, only when asked

    return [asdict(step) for step in trace(directory, business_id)]
