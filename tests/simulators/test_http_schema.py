"""A short schemathesis run against each simulator's OpenAPI description: whatever it sends,
the services answer without a server error (5xx other than the profile's own 503 / 504)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from harness.live.serve import Services, plan_services
from simulators.http import Control, create_app
from tests.conftest import scenario_with
from tests.simulators.test_http import FakeClock

#: The profile's own answers: an outage's 503 and a lost answer's 504 are not server errors.
PROFILE_ANSWERS = {503, 504}


def quiet_services(directory: Path) -> Services:
    scenario = scenario_with(**{"systems.erp.maintenance": [],
                                "systems.billing.webhooks.duplicate_probability": 0})  # fmt: skip
    built = plan_services(scenario, 3, directory, 1.0, "127.0.0.1", 8101, None)
    clock = FakeClock()
    for live in built.live.values():
        live.clock = clock
    return built


@pytest.mark.parametrize("system", ["cpq", "erp", "billing", "support"])
def test_no_server_errors_whatever_is_sent(system: str, tmp_path: Path) -> None:
    built = quiet_services(tmp_path / "live")
    assert built.history is not None
    app = create_app(built.live[system], Control(built.admin_token, built.history.lines,
                                                 built.reset))  # fmt: skip
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    token = {"Authorization": f"Bearer {built.tokens[system]}"}
    failures: list[str] = []
    seen: Counter[int] = Counter()

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= len(built.live[system].system.operations)
    for operation in operations:

        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def probe(case: schemathesis.Case) -> None:
            answer = case.call(headers=token)
            seen[answer.status_code] += 1
            if answer.status_code >= 500 and answer.status_code not in PROFILE_ANSWERS:
                failures.append(f"{case.method} {case.path}: {answer.status_code} "
                                f"{answer.text[:200]}")  # fmt: skip

        probe()
    built.history.close()
    assert failures == []
    assert sum(seen.values()) > 30 and set(seen) - {401}, seen  # it got past the token check
    assert any(200 <= status < 300 for status in seen), seen
