"""Live services in the studio: their history as it grows, judged at each poll, and the
trainer's controls (faults through serve's admin endpoints, the load through a sales floor).

Rules:
1. The history is what serve and its orchestrator write (`history.jsonl`, and
   `orchestrator/history.jsonl` beside it), tailed from the files each poll and merged in time
   order; nothing is read from the orchestrator's own account of itself. A reset (the file
   shrank) starts the buffer again.
2. A poll after new records judges all of them as `syncline load` judges live services: the
   scenario's checkers over the time that has run, and a checker that judges at quiescence
   shown `unknown` rather than failing work still on its way. The verdicts are kept as a mark at
   the newest record's time: the page's running verdicts. Judging again costs time in
   proportion to the history (5 s for 127,000 records), so it takes at most `JUDGING_SHARE` of
   the studio's time (`Pacer`): in a long session the verdicts come every few seconds, while
   every poll still takes the new lines.
3. A fault goes through serve's `POST /admin/faults/<kind>/<start|stop>` on the system's own
   service, so serve records it and the page sees it in the history like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from harness import checkers
from harness.live.client import http_client
from harness.live.judge import undecided
from harness.live.orchestrator import read_services
from harness.live.sales import SalesFloor, world_headers
from harness.live.serve import RealClock
from harness.studio.index import (
    Mark,
    breaches,
    parse_records,
    scan_lines,
)
from harness.studio.sources import (
    WINDOW_LIMIT,
    LiveBuffer,
    NotARun,
    Window,
    evidence_ids,
    framed,
    window_of,
)

#: Seconds between two polls of the services' history.
POLL_S = 0.5
#: Marks kept for the page; older ones are thinned to every other.
KEPT_MARKS = 600
#: The load slider's range, in quotes approved per wall second.
MAX_RATE = 20.0
#: The most of the studio's time that judging the live history again may take (rule 2).
JUDGING_SHARE = 0.25


class Pacer:
    """When to do a costly thing again so that it takes at most `share` of the time: once its
    last run's duration divided by `share` has passed since that run began."""

    def __init__(self, share: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.share, self.monotonic = share, monotonic
        self.began: float | None = None
        self.took = 0.0

    def due(self) -> bool:
        return self.began is None or self.monotonic() - self.began >= self.took / self.share

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        began = self.monotonic()
        try:
            yield
        finally:
            self.began, self.took = began, self.monotonic() - began


class LiveRun:
    """Services `syncline serve` runs from `directory` (the one holding tokens.json)."""

    live = True

    def __init__(self, directory: Path) -> None:
        try:
            self.described = read_services(directory)
        except FileNotFoundError as error:
            raise NotARun(str(error)) from None
        self.directory = directory
        self.scenario = self.described["scenario"]
        self.seed = int(self.described.get("seed", 0))
        self.sources = (directory / "history.jsonl", directory / "orchestrator" / "history.jsonl")
        self._read = [0] * len(self.sources)  # bytes taken from each source
        self._lines: list[list[bytes]] = [[] for _ in self.sources]
        self.buffer = LiveBuffer()
        self.lines: list[bytes] = []
        self.times: list[float] = []
        self.marks: list[Mark] = []
        self.rate = 0.0
        self.floor = SalesFloor(self.scenario, self.seed)
        self._overview: dict[str, Any] = {}
        self.pacer = Pacer(JUDGING_SHARE)
        self._unjudged = False
        self._judge()

    @property
    def clock(self) -> RealClock:
        return RealClock(self.described["time_scale"], self.described["started_unix"])

    def _meta(self) -> dict[str, Any]:
        options = self.described.get("serve", {})
        return {
            "scenario": self.scenario.name, "design": options.get("design") or "live",
            "seed": self.seed, "start": self.scenario.start.isoformat(),
            "horizon": self.scenario.horizon_s,
        }  # fmt: skip

    # -- the history (rules 1 and 2) --------------------------------------------------------

    def poll(self) -> bool:
        """Take what the files gained; judge again when they did. True when anything new."""
        fresh = False
        for index, path in enumerate(self.sources):
            if not path.is_file():
                continue
            size = path.stat().st_size
            if size < self._read[index]:  # a reset archived the history: start again
                self._read = [0] * len(self.sources)
                self._lines = [[] for _ in self.sources]
                self.buffer, self.marks = LiveBuffer(), []
            with path.open("rb") as lines:
                lines.seek(self._read[index])
                chunk = lines.read()
            whole = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits
            self._read[index] += len(whole)
            self._lines[index].extend(whole.splitlines())
            fresh |= self.buffer.take(index, self._lines[index])
        if fresh:
            self.lines, self.times = self.buffer.ordered()
            self._unjudged = True
        if self._unjudged and self.pacer.due():
            self._judge()
        return fresh

    def _judge(self) -> None:
        with self.pacer.timed():
            self._judge_now()
        self._unjudged = False

    def _judge_now(self) -> None:
        now = max(self.clock.now(), self.times[-1] if self.times else 0.0)
        framed_lines = list(framed(self.lines, self._meta(), now))
        scan = scan_lines(framed_lines, self.scenario.horizon_s)
        self._overview = scan.finish()
        # Judged as `syncline load` judges live services: over the time that has run, and
        # with the work still moving not yet failed by the checkers that need it settled.
        running = self.scenario.model_copy(update={"duration": max(now, 1.0), "drain": 0.0})
        built = checkers.build(running)
        dispatch = checkers.Dispatch(built)
        for record in parse_records(framed_lines):
            dispatch(record)
        verdicts = undecided(dispatch.verdicts(), built)
        self.marks.append(Mark(len(self.lines), now, verdicts))
        if len(self.marks) > KEPT_MARKS:
            self.marks = self.marks[::2]

    # -- what the page asks -----------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        meta = self._meta()
        verdicts = [v.as_dict() for v in self.marks[-1].verdicts] if self.marks else []
        return {
            **self._overview, "live": True, "directory": str(self.directory),
            "run": {key: meta[key] for key in ("scenario", "design", "seed", "start")},
            "now": self.clock.now(), "rate": self.rate, "max_rate": MAX_RATE,
            "sold": self.floor.sold, "time_scale": self.described["time_scale"],
            "systems": [*self.described["systems"], "orchestrator"],
            "verdicts": verdicts, "evidence_ids": evidence_ids(verdicts),
        }  # fmt: skip

    def window(self, t0: float, t1: float, limit: int = WINDOW_LIMIT, head: bool = False) -> Window:
        return window_of(self.lines, self.times, t0, t1, limit, head)

    def marks_answer(self) -> dict[str, Any]:
        return {"ready": True, "marks": [m.as_dict() for m in self.marks],
                "breaches": breaches(self.marks)}  # fmt: skip

    # -- the trainer's controls (rule 3) ----------------------------------------------------

    async def fault(
        self, system: str, kind: str, action: str, params: dict[str, float]
    ) -> tuple[int, dict[str, Any]]:
        """Start or stop a fault; serve's answer (status, body)."""
        systems = self.described["systems"]
        target = system if system in systems else next(iter(systems))  # the orchestrator's
        url = f"{systems[target]['url']}/admin/faults/{kind}/{action}"
        async with http_client(token=self.described["admin_token"], timeout=30.0) as client:
            try:
                answer = await client.post(url, json=params)
            except httpx.HTTPError as error:
                return 502, {"error": {"code": "unreachable", "message": f"serve: {error}"}}
        return answer.status_code, answer.json()

    async def drive(self, stop: asyncio.Event) -> None:
        """The sales floor at the slider's rate, until `stop`; and the polls."""
        cpq, support = self.described["systems"]["cpq"], self.described["systems"]["support"]
        async with (
            http_client(cpq["url"], cpq["token"], headers=world_headers("sales_reps")) as sales,
            http_client(support["url"], support["token"],
                        headers=world_headers("customers")) as desk,
        ):  # fmt: skip
            while not stop.is_set():
                if self.rate > 0:
                    with contextlib.suppress(httpx.HTTPError):
                        await self.floor.sell(sales, desk)
                    await _wait(stop, 1 / self.rate)
                else:
                    await _wait(stop, POLL_S)

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.poll)
            await _wait(stop, POLL_S)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
