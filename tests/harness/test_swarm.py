"""`syncline swarm` and `syncline shrink`: from failing seeds to the smallest failing scenario."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.faults import with_swarm
from harness.runner import resolve_design, run, simulate
from harness.scenario import load
from harness.sweep import read_results
from tests.markdown_parse import parse_markdown

#: Half a day of traffic and a quarter day to drain: a second or two a run.
SHORT = ("--set", "duration=12h", "--set", "drain=6h")


def swarm(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    result = CliRunner().invoke(main, ["swarm", *args, "--workers", "2", "--out", str(tmp_path)])
    directory = next((tmp_path / "swarm").iterdir())
    return result.exit_code, result.output, directory


def test_a_swarm_reports_pass_rates_coverage_and_every_failing_seed(tmp_path: Path) -> None:
    code, out, directory = swarm(
        tmp_path, "subscription_amendment", "duplicate_webhook_storm", "--seeds", "2",
        "--first-seed", "5", "--design", "tests.broken_designs:NaiveConsumer", *SHORT,
    )  # fmt: skip
    results = read_results(directory)
    assert [(r["point"], r["seed"]) for r in results] == [(0, 5), (0, 6), (1, 5), (1, 6)]
    failing = [r for r in results if r["status"] != "pass"]
    assert failing and code == 1, out  # no inbox, no keys: duplicates get through
    for result in failing:
        name = ("subscription_amendment", "duplicate_webhook_storm")[result["point"]]
        replay = (f"replay: syncline run {name} --swarm --seed {result['seed']} --design "
                  "tests.broken_designs:NaiveConsumer")  # fmt: skip
        assert replay in out
        for checker, cause in result["causes"].items():
            assert f"{name} seed {result['seed']}: {checker}: {cause}" in out
    assert re.search(r"effect_once\s+\d+/4\s+\d/4 \(", out)  # exercised, then passed
    markdown = parse_markdown((directory / "swarm.md").read_text(encoding="utf-8"))
    per_checker, seeds = markdown.tables
    assert per_checker[0][:3] == ["checker", "exercised in", "all scenarios"]
    assert per_checker[0][3:] == ["subscription_amendment", "duplicate_webhook_storm"]
    assert len(seeds) - 1 == sum(len(r["causes"]) for r in failing)
    html = (directory / "swarm.html").read_text(encoding="utf-8")
    assert html.count("--swarm --seed") == len(seeds) - 1


def test_the_reference_passes_a_small_swarm_and_exits_0(tmp_path: Path) -> None:
    code, out, directory = swarm(tmp_path, "missing_tax_code", "--seeds", "2")
    assert code == 0, out
    assert "failing seeds: 0 of 2" in out and "overall: PASS" in out
    plan = json.loads((directory / "sweep.json").read_text(encoding="utf-8"))
    assert plan["swarm"] is True and plan["seeds"] == [1, 2]


def test_bad_swarm_input_gets_one_sentence(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["swarm", "no_such_scenario", "--seeds", "2"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["swarm", "subscription_amendment"])
    assert result.exit_code == 2 and "--seeds" in result.output


def test_shrink_finds_a_scenario_of_at_most_two_faults_that_fails_the_same_way(
    tmp_path: Path,
) -> None:
    """A design that keeps its exceptions in memory fails nothing_lost in a swarm run; the
    shrunk scenario keeps the crash that loses them and little else."""
    spec = "tests.broken_designs:KeepsExceptionsInMemory"
    failing = run(load("subscription_amendment"), spec, 3, tmp_path / "runs", swarm=True)
    assert {v.checker: v.status for v in failing.verdicts}["nothing_lost"] == "fail"
    faults_before = len(load(str(failing.run_dir / "scenario.yaml")).faults)
    result = CliRunner().invoke(main, ["shrink", str(failing.run_dir), "--max-runs", "40"])
    assert result.exit_code == 0, result.output
    shrunk = load(str(failing.run_dir / "shrunk" / "scenario.yaml"))
    assert len(shrunk.faults) <= 2 < faults_before
    assert shrunk.duration < load(str(failing.run_dir / "scenario.yaml")).duration
    summary = json.loads((failing.run_dir / "shrunk" / "run" / "summary.json").read_text())
    verdict = next(v for v in summary["checkers"] if v["checker"] == "nothing_lost")
    assert verdict["status"] == "fail" and verdict["figures"]["lost"] > 0
    assert f"{faults_before} faults → {len(shrunk.faults)}" in result.output
    assert "the first evidence" in result.output and "swimlane:" in result.output
    assert "keeping nothing_lost failing" in result.output


def test_a_checker_judging_alone_gives_the_verdict_it_gives_among_all() -> None:
    """A shrink judges its candidates by the one checker it keeps failing (`only`): every
    verdict of a run judged by half the checkers, then by the other half, is the whole run's."""
    scenario = with_swarm(load("subscription_amendment", ("duration=2d",)), 3)
    factory = resolve_design("point-to-point", scenario.designs)
    whole, _ = simulate(scenario, factory, 3)
    names = [verdict.checker for verdict in whole]
    halves = [simulate(scenario, factory, 3, only=set(names[start::2]))[0] for start in (0, 1)]
    # human_time always judges: the latency checkers excuse the waits it records
    assert [v.checker for v in halves[1]] == ["human_time", *names[1::2]]
    alone = {verdict.checker: verdict for half in halves for verdict in half}
    assert [alone[name] for name in names] == list(whole)
    assert {v.status for v in whole} == {"pass", "fail"}  # failures' evidence compared too


def test_shrink_refuses_a_run_with_nothing_to_shrink(tmp_path: Path) -> None:
    passing = run(load("missing_tax_code"), "reference", 1, tmp_path / "runs")
    result = CliRunner().invoke(main, ["shrink", str(passing.run_dir)])
    assert result.exit_code == 2 and "nothing to shrink" in result.output
    result = CliRunner().invoke(main, ["shrink", str(tmp_path)])
    assert result.exit_code == 2 and "not a run directory" in result.output
