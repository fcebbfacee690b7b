"""Checker plugins: `--checker`, the scenario's `checkers:`, the entry point group, their SLOs."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.checkers import plugins as plugin_module
from harness.cli import main
from harness.designs.reference import ReferenceDesign
from harness.runner import simulate
from harness.scenario import ScenarioError, load

SPEC = "examples.erp_call_budget:ErpCallBudget"


def run(*args: str, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["run", "subscription_amendment", "--set", "duration=1d", "--out", str(out), *args]
    )
    return result.exit_code, result.output


def test_a_checker_plugin_judges_a_run_and_its_slo_decides(tmp_path: Path) -> None:
    code, out = run("--checker", SPEC, out=tmp_path)
    assert code == 0, out
    line = next(line for line in out.splitlines() if "erp_call_budget" in line)
    assert " pass " in line and "ERP calls per quote" in line and "SLO ≤ 8" in line
    tight = "slo.plugins.erp_call_budget.max_calls_per_quote=1.5"
    code, out = run("--checker", SPEC, "--set", tight, out=tmp_path)
    assert code == 1 and "erp_call_budget             fail" in out
    analyzed = CliRunner().invoke(main, ["analyze", str(tmp_path / "latest")])
    assert analyzed.exit_code == 1 and "erp_call_budget" in analyzed.output  # kept in the run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checker", "examples.nowhere:Thing"], "--checker examples.nowhere:Thing: checker "
         "plugin examples.nowhere:Thing: cannot import"),
        (["--checker", "examples.erp_call_budget:Missing"], "has no callable 'Missing'"),
        (["--checker", "no-colon"], "write it as package.module:factory"),
        (["--checker", SPEC, "--set", "slo.plugins.erp_call_budget.max_calls=3"],
         "slo.plugins.erp_call_budget.max_calls: Extra inputs are not permitted"),
        (["--set", "slo.plugins.erp_call_budget.max_calls_per_quote=3"],
         "slo.plugins.erp_call_budget names no checker plugin"),
        (["--checker", "examples.straight_through:StraightThrough"], "StraightThrough failed"),
        (["--checker", "builtins:zip"], "returned zip, which is not a checker"),
    ],
)  # fmt: skip
def test_a_bad_plugin_gets_one_sentence_and_exit_2(
    args: list[str], message: str, tmp_path: Path
) -> None:
    code, out = run(*args, out=tmp_path)
    assert code == 2, out
    assert message in out and "Traceback" not in out
    assert not list(tmp_path.glob("*/*/*/history.jsonl"))  # refused before any run


def test_installed_plugins_come_from_the_entry_point_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed = [EntryPoint("budget", SPEC, plugin_module.GROUP)]
    monkeypatch.setattr(plugin_module, "entry_points", lambda group: installed)
    scenario = load("subscription_amendment", ["duration=1d"])
    verdicts, _ = simulate(scenario, ReferenceDesign, seed=1)
    assert [v.checker for v in verdicts][-1] == "erp_call_budget"
    named_twice = [*installed, EntryPoint("other", "examples.straight_through:StraightThrough",
                                          plugin_module.GROUP)]  # fmt: skip
    monkeypatch.setattr(plugin_module, "entry_points", lambda group: named_twice)
    with pytest.raises(ScenarioError, match="StraightThrough failed: TypeError"):
        load("subscription_amendment", ["duration=1d"])
