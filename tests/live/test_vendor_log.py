"""The vendor log: what a crash of `serve` would take, and `resume_services` gives back — the
same records, IDs, idempotency keys and change feed, master-data windows and repairs included;
and a directory that cannot be resumed is refused with one sentence."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

import httpx
import pytest

from harness.faults import FaultWindow, build_schedule
from harness.live.serve import (
    CannotResume,
    Services,
    admin_faults,
    resume_services,
    write_tokens,
)
from harness.live.vendor_log import FILE
from tests.conftest import scenario_with
from tests.simulators.test_http import DEAL, auth, drive, services


def held(built: Services, system: str) -> bytes:
    """Everything a system of record holds but its price book, as bytes to compare."""
    found = built.live[system].system
    return pickle.dumps({k: v for k, v in vars(found).items()
                         if k not in ("catalog", "accounts", "_operations")})  # fmt: skip


def test_a_resumed_world_holds_what_the_crashed_one_held(tmp_path: Path) -> None:
    scenario = scenario_with(**{
        "systems.erp.maintenance": [],
        "faults": [{"kind": "master_data_gap", "tax_code": "US", "start": "0s", "duration": "1h"}],
    })  # fmt: skip
    built, _ = services(tmp_path, scenario)
    built.options = {"host": "127.0.0.1", "port": 8101, "webhooks": "http://orch"}
    write_tokens(built)
    window = 0  # the schedule's only window: the gap, then the operations team's repair
    assert built.system_faults is not None and built.vendor_log is not None
    built.system_faults.enact(window, _window(built), True)
    built.vendor_log.enactment(window, True)

    async def steps(client: httpx.AsyncClient) -> list[int]:
        headers = auth(built, "cpq")
        statuses = []
        for number in range(4):
            keyed = {**headers, "Idempotency-Key": f"q{number % 3}"}
            made = await client.post("/v1/create_quote", json=DEAL, headers=keyed)
            statuses.append(made.status_code)
            quote = made.json()["quote_id"]
            answer = await client.post("/v1/approve_quote", json={"quote_id": quote},
                                       headers=headers)  # fmt: skip
            statuses.append(answer.status_code)
        refused = await client.post("/v1/create_quote", json={**DEAL, "term_months": "abc"},
                                    headers=headers)  # fmt: skip
        return [*statuses, refused.status_code]

    statuses = drive(built, "cpq", steps)
    assert statuses[-1] == 400 and all(status < 300 for status in statuses[:-1]), statuses
    built.repair_master_data()
    crashed = {name: held(built, name) for name in built.live}
    assert built.vendor_log is not None
    logged = len(built.vendor_log)
    built.vendor_log.close()

    again = resume_services(built.directory)
    assert again.tokens == built.tokens and again.admin_token == built.admin_token
    assert {name: held(again, name) for name in again.live} == crashed
    assert again.live["cpq"].calls == built.live["cpq"].calls == 9  # numbering goes on
    assert (window, True) in again.enacted
    assert len(again.vendor_log or ()) == logged
    kinds = [kind for _, kind, _ in again.vendor_log.entries()] if again.vendor_log else []
    assert kinds == ["enact", *["request"] * 8, "repair"]  # the malformed one changed nothing
    assert again.history is not None
    again.history.close()


def test_a_vendor_upgrade_started_through_the_admin_api_holds_after_a_resume(
    tmp_path: Path,
) -> None:
    """The studio's fault buttons are outside the schedule: the log keeps them, so a resumed
    billing still sends schema 2 (and an upgrade stopped before the crash stays stopped)."""
    built, _ = services(tmp_path)
    built.options = {"host": "127.0.0.1", "port": 8101, "webhooks": "http://orch"}
    write_tokens(built)
    enact = admin_faults(built, None)
    for system, starts in (("billing", True), ("cpq", True), ("cpq", False)):
        assert asyncio.run(enact(system, "vendor_upgrade", {}, starts)) is None
    versions = {name: live.system.event_schema_version for name, live in built.live.items()}
    assert versions["billing"] == 2 and versions["cpq"] == 1
    assert built.history is not None and built.vendor_log is not None
    built.history.close()
    built.vendor_log.close()

    again = resume_services(built.directory)
    assert {name: live.system.event_schema_version for name, live in again.live.items()} == (
        versions
    )
    assert again.history is not None
    again.history.close()


def _window(built: Services) -> FaultWindow:
    return build_schedule(built.scenario, built.seed).windows[0]


@pytest.mark.parametrize("missing", ["tokens.json", FILE])
def test_a_directory_that_cannot_be_resumed_says_why(tmp_path: Path, missing: str) -> None:
    built, _ = services(tmp_path)
    built.options = {"host": "127.0.0.1", "port": 8101}
    write_tokens(built)
    assert built.history is not None and built.vendor_log is not None
    built.history.close()
    built.vendor_log.close()
    (built.directory / missing).unlink()
    with pytest.raises(CannotResume, match="start a new world"):
        resume_services(built.directory)
