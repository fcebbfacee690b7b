"""Schemathesis against each simulator's and the orchestrator's OpenAPI description, with its
positive and its negative data: whatever is sent, the services answer without a server error
(5xx other than the profile's own 503 / 504), and what breaks the description is refused with
a 4xx, never applied."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from harness.designs import Context
from harness.designs.reference import ReferenceDesign
from harness.live.driver import LiveDriver
from harness.live.journal import Journal
from harness.live.orchestrator import Orchestrator, create_orchestrator_app
from harness.live.serve import HistoryLog, Services, plan_services
from harness.seeds import streams
from simulators.http import Control, create_app
from tests.conftest import scenario_with
from tests.simulators.test_http import FakeClock

#: The profile's own answers: an outage's 503 and a lost answer's 504 are not server errors.
PROFILE_ANSWERS = {503, 504}
#: Gateway refusals a quiet profile may still give (a rate limit) besides the 4xx of a bad request.
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


def quiet_services(directory: Path) -> Services:
    scenario = scenario_with(**{"systems.erp.maintenance": [],
                                "systems.billing.webhooks.duplicate_probability": 0})  # fmt: skip
    built = plan_services(scenario, 3, directory, 1.0, "127.0.0.1", 8101, None)
    clock = FakeClock()
    for live in built.live.values():
        live.clock = clock
    return built


def probe_all(
    app: FastAPI, headers: dict[str, str], mode: GenerationMode, strict: bool = True
) -> Counter[int]:
    """Every operation of `app`'s description, 8 cases each in `mode`: the statuses seen.
    Fails on a server error, and (`strict`) in negative mode on a case that was not refused."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    seen: Counter[int] = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy(generation_mode=mode))
        def probe(case: schemathesis.Case) -> None:
            answer = case.call(headers=headers)
            seen[answer.status_code] += 1
            server_error = answer.status_code >= 500 and answer.status_code not in PROFILE_ANSWERS
            accepted_bad = strict and (
                mode is GenerationMode.NEGATIVE and case.meta is not None
                and not case.meta.generation.mode.is_positive and answer.status_code < 300
                and case.method.upper() == "POST" and answer.status_code != 202
            )  # fmt: skip
            if server_error or accepted_bad:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r:.200} "
                                f"{dict(case.headers or {})!r:.120}: {answer.status_code} "
                                f"{answer.text[:200]}")  # fmt: skip

        try:
            probe()
        except Unsatisfiable:  # nothing in the operation to break (a GET without parameters)
            assert mode is GenerationMode.NEGATIVE, operation.path
    assert failures == [], failures
    return seen


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
@pytest.mark.parametrize("system", ["cpq", "erp", "billing", "support"])
def test_no_server_errors_whatever_is_sent(
    system: str, mode: GenerationMode, tmp_path: Path
) -> None:
    built = quiet_services(tmp_path / "live")
    assert built.history is not None
    app = create_app(built.live[system], Control(built.admin_token, built.history.lines,
                                                 built.reset))  # fmt: skip
    assert len(app.openapi()["paths"]) >= len(built.live[system].system.operations)
    seen = probe_all(app, {"Authorization": f"Bearer {built.tokens[system]}"}, mode)
    built.history.close()
    assert sum(seen.values()) > 30 and set(seen) - {401}, seen  # it got past the token check
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= status < 300 for status in seen), seen
    else:
        assert seen[400] > 10, seen  # refused as malformed, not as unknown


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
def test_the_orchestrator_answers_whatever_is_sent(mode: GenerationMode, tmp_path: Path) -> None:
    """Webhooks unsigned or malformed (401 / 400), the exception queue's admin endpoints."""
    built = quiet_services(tmp_path / "live")
    state = tmp_path / "orchestrator"
    state.mkdir()
    clock, journal = FakeClock(), Journal(state / "journal.sqlite")
    assert built.history is not None
    built.history.close()
    history = HistoryLog(state / "history.jsonl")
    driver = LiveDriver(ReferenceDesign(reconcile_every=None), {}, journal, clock, history,
                        Context(streams(7)("design")))  # fmt: skip
    app = create_orchestrator_app(Orchestrator(driver, built.signing_secret, "admin", clock.unix))
    seen = probe_all(app, {"Authorization": "Bearer admin"}, mode)
    journal.close()
    history.close()
    assert seen[401] + seen[400] > 5, seen  # webhooks refused before anything acted on them
