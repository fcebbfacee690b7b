"""Shared fixtures: a short version of the seed scenario, and a helper to run designs on it."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

from harness.designs import DesignFactory
from harness.runner import RunResult, run
from harness.scenario import Scenario, parse

# Property tests draw the same examples on every run, so the suite is deterministic (a red CI
# is a real regression); SYNCLINE_EXPLORE=1 lets Hypothesis search afresh, as when hunting bugs.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile("explore" if os.environ.get("SYNCLINE_EXPLORE") else "deterministic")

SEED_SCENARIO: dict[str, Any] = yaml.safe_load(
    (resources.files("scenarios") / "subscription_amendment.yaml").read_text(encoding="utf-8")
)


def scenario_with(**overrides: Any) -> Scenario:
    """The seed scenario with dotted-path overrides, e.g. `**{"workload.amendments": "0/h"}`."""
    data = copy.deepcopy(SEED_SCENARIO)
    for path, value in overrides.items():
        *parents, leaf = path.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return parse(yaml.safe_dump(data), "test-scenario")


@pytest.fixture(scope="session")
def short_scenario() -> Scenario:
    """Two days of the seed scenario's traffic and faults, then a day to drain (~1 s a run)."""
    # A 4 h ERP window in two days of traffic holds more than 5 % of quotes for hours: the
    # end-to-end p95 is relaxed to match, as a scenario with such a window would.
    return scenario_with(duration="2d", **{
        "systems.erp.maintenance": [{"once": "2026-03-02T20:00:00Z", "duration": "4h"}],
        "slo.end_to_end": {"p50": "5m", "p95": "5h", "max": "1d"},
    })  # fmt: skip


RunDesign = Callable[..., RunResult]


@pytest.fixture
def run_design(tmp_path: Path, short_scenario: Scenario) -> RunDesign:
    def go(
        design: str | DesignFactory = "reference", seed: int = 7, scenario: Scenario | None = None
    ) -> RunResult:
        return run(scenario or short_scenario, design, seed, tmp_path / "runs")

    return go


#: The files that take longest (by `--durations`), first. `make test` runs xdist with
#: `--no-loadscope-reorder`, so files are handed out in this order: the long ones start at once,
#: beside each other, instead of trailing the run alone (longest processing time first).
SLOWEST_FIRST = (
    "tests/test_readme_part2.py",
    "tests/test_readme_part3.py",
    "tests/test_readme.py",
    "tests/live/test_end_to_end.py",
    "tests/live/test_sdk_integration.py",
    "tests/live/test_sdk_integration_mistake.py",
    "tests/harness/test_swarm.py",
    "tests/live/test_distributed.py",
    "tests/harness/test_compare.py",
    "tests/harness/test_gate.py",
    "tests/test_scenario_library.py",
    "tests/harness/test_diff.py",
    "tests/live/test_choreography_live.py",
    "tests/harness/test_reference_fixes.py",
    "tests/live/test_vendor_salesforce.py",
    "tests/live/test_vendor_stripe.py",
    "tests/studio/test_played.py",
    "tests/studio/test_live_page.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
