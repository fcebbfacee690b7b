"""Syncline as a pytest plugin (registered through the `pytest11` entry point).

    def test_amendments_hold_up(syncline):
        result = syncline.run("scenarios/subscription_amendment.yaml", seed=7)
        assert result.passed

When a test fails, its report gets a "syncline" section per run: each checker that did not
pass, with its summary, and the run directory holding the history and the report.

Run directories go under the test's temporary path, or, to keep them as CI artifacts, under
`--syncline-out DIR` (or the ini value `syncline_out = DIR`), one folder per test.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.runner import RunResult
from harness.scenario import Scenario


class Syncline:
    """Runs scenarios for a test; the run directories go under the test's temporary path."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.results: list[RunResult] = []

    def run(
        self,
        scenario: str | Path | Scenario,
        design: str | None = None,
        seed: int = 0,
        overrides: Sequence[str] = (),
        swarm: bool = False,
    ) -> RunResult:
        """Run a scenario (a file, a shipped name, or a loaded one) against `design` (the one
        the scenario names by default); reports are written as by `syncline run`."""
        from harness import runner  # noqa: PLC0415 - kept out of every test session's start
        from harness.scenario import load  # noqa: PLC0415
        from reports import write_reports  # noqa: PLC0415

        loaded = scenario if isinstance(scenario, Scenario) else load(str(scenario), overrides)
        result = runner.run(
            loaded, design or loaded.design, seed, self.out, reports=write_reports, swarm=swarm
        )
        self.results.append(result)
        return result


OUT_HELP = "Keep Syncline's run directories under DIR, one folder per test (CI artifacts)."


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("syncline")
    group.addoption("--syncline-out", metavar="DIR", default=None, help=OUT_HELP)
    parser.addini("syncline_out", OUT_HELP, default="")


@pytest.fixture
def syncline(request: pytest.FixtureRequest, tmp_path: Path) -> Syncline:
    """Run Syncline scenarios from a test: `syncline.run("scenario.yaml").passed`."""
    config = request.config
    chosen = config.getoption("--syncline-out") or config.getini("syncline_out")
    if not chosen:
        return Syncline(tmp_path / "syncline-runs")
    base = Path(str(chosen))
    if not base.is_absolute():
        base = Path(config.rootpath) / base
    folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")
    return Syncline(base / folder)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, pytest.TestReport]:
    report: pytest.TestReport = yield
    fixture = getattr(item, "funcargs", {}).get("syncline")
    if report.failed and isinstance(fixture, Syncline):
        for result in fixture.results:
            report.sections.append(("syncline", result.explain()))
    return report
