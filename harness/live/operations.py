"""The operations team live: the scenario's `operations:` rules, worked against the orchestrator's
`GET /exceptions`, in the scenario's business time on the services' clock.

The same rules as the simulated team (harness.sim.operations): for each parked workflow the rule
for its code (or "*") says whether ERP's master data is repaired first, how much business time
the team takes, and what it tells the orchestrator then (`POST /exceptions/<workflow>/<action>`:
resolve, skip, compensate); a dead letter is replayed or compensated after `replay_after`. Each
step is an `operations` policy record in the services' history, as simulated.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx

from harness.history import PolicyRecord, Record
from harness.scenario import Scenario
from harness.scenario.operations import after_business_time
from simulators.http import Clock

#: The team aims to finish this share of a rule's time early, at most `EARLY_MAX_S`: it sees an
#: exception when the orchestrator has parked it, a moment after the vendor refused (which is
#: where `human_time` starts counting), and real time never runs exactly to the second.
EARLY, EARLY_MAX_S = 0.05, 300.0
#: A rule's `then:` as the orchestrator's action.
ACTIONS = {"resume": "resolve", "skip": "skip", "compensate": "compensate", "replay": "replay"}
#: What the simulated team's records call each action (harness.sim.operations).
RECORDED = {
    "resolve": "operator.resolve",
    "skip": "operator.skip",
    "compensate": "operator.compensate",
    "replay": "operator.replay",
}


class LiveOperations:
    """Polls the orchestrator's exceptions and works each one once, as the rules say."""

    def __init__(
        self,
        scenario: Scenario,
        clock: Clock,
        client: httpx.AsyncClient,
        repair_master_data: Callable[[], None],
        record: Callable[[Record], None],
        poll_s: float = 60.0,
        poll_wall_s: float = 1.0,
    ) -> None:
        self.spec, self.start = scenario.operations, scenario.start
        self.clock, self.client, self.record = clock, client, record
        self.repair_master_data, self.poll_s = repair_master_data, poll_s
        self.poll_wall_s = poll_wall_s  # and at most this often in real time: a list is a scan
        self._seen: set[tuple[str, str, Any]] = set()  # (workflow, status, parked_at)
        self._work: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Exceptions the team has taken and not yet acted on."""
        return len(self._work)

    async def run(self) -> None:
        """Until cancelled: every `poll_s` of scenario time, pick up what is newly parked."""
        try:
            while True:
                for entry in await self._exceptions():
                    self._take(entry)
                await asyncio.gather(self.clock.sleep(self.poll_s), asyncio.sleep(self.poll_wall_s))
        finally:
            for task in self._work:
                task.cancel()

    async def _exceptions(self) -> list[dict[str, Any]]:
        try:
            answer = await self.client.get("/exceptions")
            listed = answer.json() if answer.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            return []  # the orchestrator is down (a crash): operators look again later
        return [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []

    def _take(self, entry: dict[str, Any]) -> None:
        workflow, status = str(entry.get("workflow", "")), entry.get("status")
        mark = (workflow, str(status), entry.get("parked_at"))
        if not workflow or mark in self._seen:
            return
        plan = self._plan(str(status), str(entry.get("code") or ""))
        if plan is None:
            return
        self._seen.add(mark)
        parked_at = entry.get("parked_at")
        since = float(parked_at) if isinstance(parked_at, int | float) else self.clock.now()
        task = asyncio.get_running_loop().create_task(self._work_on(workflow, since, *plan))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    def _plan(self, status: str, code: str) -> tuple[float, bool, str] | None:
        """(business seconds it takes, repair master data first, action), if a rule covers it."""
        if status == "parked":
            rule = self.spec.rule_for(code)
            if rule is not None:
                return rule.within, rule.fix == "master_data", ACTIONS[rule.then]
        elif status == "dead_lettered" and self.spec.dead_letters is not None:
            dead = self.spec.dead_letters
            return dead.replay_after, False, ACTIONS[dead.then]
        return None

    async def _work_on(
        self, workflow: str, since: float, within: float, fix: bool, action: str
    ) -> None:
        done = after_business_time(self.start, since, within, self.spec.business_hours)
        await self.clock.sleep(done - min(within * EARLY, EARLY_MAX_S) - self.clock.now())
        if fix:
            self.repair_master_data()
            self._note(workflow, "fixed_master_data")
        self._note(workflow, RECORDED[action])  # as simulated: decided, then sent
        while True:
            with contextlib.suppress(httpx.HTTPError):
                answer = await self.client.post(f"/exceptions/{workflow}/{action}")
                if answer.status_code in (202, 404):  # told; or no longer an exception
                    return
            await self.clock.sleep(self.poll_s)  # the orchestrator is down: try again later

    def _note(self, workflow: str, event: str) -> None:
        self.record(PolicyRecord(self.clock.now(), "operations", workflow, event))
