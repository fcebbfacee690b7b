"""One passing and one failing run of the short seed scenario, with their reports written once
for every report test (a run and its reports take seconds; the tests only read them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.runner import RunResult, run
from harness.scenario import Scenario
from reports import write_reports
from tests.broken_designs import NaiveConsumer


@dataclass(frozen=True)
class Reported:
    result: RunResult
    written: list[Path]  # report.html, report.md, the charts, then the drawn traces

    @property
    def run_dir(self) -> Path:
        return self.result.run_dir


@pytest.fixture(scope="session")
def passing_report(tmp_path_factory: pytest.TempPathFactory, short_scenario: Scenario) -> Reported:
    result = run(short_scenario, "reference", 7, tmp_path_factory.mktemp("passing"))
    assert result.passed
    return Reported(result, write_reports(result.run_dir))


@pytest.fixture(scope="session")
def failing_report(tmp_path_factory: pytest.TempPathFactory, short_scenario: Scenario) -> Reported:
    result = run(short_scenario, NaiveConsumer, 7, tmp_path_factory.mktemp("failing"))
    assert not result.passed
    return Reported(result, write_reports(result.run_dir))
