"""`syncline gate` as a CI resilience gate, and the pytest plugin."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from tests.conftest import SEED_SCENARIO
from tests.markdown_parse import parse_markdown


def write_scenario(folder: Path, name: str, **fields: Any) -> Path:
    data = {**SEED_SCENARIO, "name": name, "duration": "1d", "drain": "1d", **fields}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    write_scenario(folder, "steady")
    write_scenario(folder, "naive", design="tests.broken_designs:NaiveConsumer")
    return folder


#: Gates whose tests read verdicts only: without each run's HTML report and charts.
LEAN = ("--no-reports",)


def gate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["gate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_broken_design_fails_the_gate_with_a_readable_junit_file(
    library: Path, tmp_path: Path
) -> None:
    junit_copy, markdown_copy = tmp_path / "ci" / "junit.xml", tmp_path / "ci" / "comment.md"
    code, out, _ = gate(
        str(library), "--out", str(tmp_path / "runs"), "--workers", "1",
        "--junit", str(junit_copy), "--markdown", str(markdown_copy),
    )  # fmt: skip
    assert code == 1, out
    assert "overall: FAIL" in out
    suites = ET.parse(junit_copy).getroot()
    assert suites.tag == "testsuites" and int(suites.get("failures", "0")) >= 1
    by_name = {suite.get("name"): suite for suite in suites}
    assert set(by_name) == {"steady", "naive"}
    steady_cases = by_name["steady"].findall("testcase")
    assert len(steady_cases) == 17 and not by_name["steady"].findall("testcase/failure")
    naive_effects = by_name["naive"].find("testcase[@name='effect_once']")
    assert naive_effects is not None
    failure = naive_effects.find("failure")
    assert failure is not None and "duplicate effects" in failure.get("message", "")
    properties = {p.get("name"): p.get("value") for p in naive_effects.iter("property")}
    assert int(properties["duplicates"] or 0) > 0
    comment = markdown_copy.read_text(encoding="utf-8")
    parsed = parse_markdown(comment)  # every table whole, as a pull-request comment shows it
    assert any(row[:1] == ["naive"] for table in parsed.tables for row in table)
    assert "| `naive` | `tests.broken_designs:NaiveConsumer` |" in comment
    assert "### What did not pass" in comment and "`effect_once`" in comment
    latest = tmp_path / "runs" / "latest-gate"
    assert (latest / "junit.xml").read_bytes() == junit_copy.read_bytes()


def test_the_gate_passes_when_every_scenario_passes(library: Path, tmp_path: Path) -> None:
    code, out, _ = gate(str(library / "steady.yaml"), "--out", str(tmp_path / "runs"), *LEAN)
    assert code == 0 and "overall: PASS" in out


def test_a_design_given_on_the_command_line_overrides_the_scenarios(
    library: Path, tmp_path: Path
) -> None:
    code, out, _ = gate(
        str(library / "*.yaml"), "--design", "reference", "--out", str(tmp_path / "runs"),
        "--workers", "1", *LEAN,
    )  # fmt: skip
    assert code == 0, out


def test_a_gate_that_cannot_decide_exits_3(library: Path, tmp_path: Path) -> None:
    idle = write_scenario(
        library, "idle", workload={"new_subscriptions": "0/h", "amendments": "0/h"}
    )
    code, out, _ = gate(str(idle), "--out", str(tmp_path / "runs"))
    assert code == 3 and "overall: UNKNOWN" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{empty}"], "holds no scenario files"),
        (["{empty}/*.yaml"], "matches no scenario file"),
        (["{library}/steady.yaml", "{library}/steady.yaml"], "given twice: steady"),
        (["{library}/steady.yaml", "--design", "nowhere:thing"], "cannot import design module"),
    ],
)
def test_bad_input_exits_2(library: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    filled = [a.format(empty=tmp_path / "empty", library=library) for a in args]
    code, out, err = gate(*filled)
    assert code == 2 and message in err and out == ""


def test_the_pytest_plugin_runs_scenarios_and_explains_failures(
    pytester: pytest.Pytester, library: Path
) -> None:
    pytester.makepyfile(
        f"""
        def test_steady(syncline):
            assert syncline.run({str(library / "steady.yaml")!r}, seed=3).passed

        def test_naive(syncline):
            result = syncline.run({str(library / "naive.yaml")!r}, seed=3)
            assert result.passed
        """
    )
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines(
        ["*- syncline -*", "naive × naive-consumer, seed 3: FAIL", "  effect_once fail: *"]
    )


@pytest.mark.parametrize("how", ["option", "ini"])
def test_the_fixture_keeps_run_directories_where_ci_collects_them(
    pytester: pytest.Pytester, library: Path, how: str
) -> None:
    pytester.makepyfile(
        f"""
        def test_steady(syncline):
            assert syncline.run({str(library / "steady.yaml")!r}, seed=3).passed
        """
    )
    args = ["-p", "no:cacheprovider"]
    if how == "option":
        args.append("--syncline-out=artifacts")
    else:
        pytester.makeini("[pytest]\nsyncline_out = artifacts\n")
    pytester.runpytest_inprocess(*args).assert_outcomes(passed=1)
    kept = (
        pytester.path
        / "artifacts"
        / "test_the_fixture_keeps_run_directories_where_ci_collects_them.py_test_steady"
    )
    summaries = list(kept.glob("steady/*/*/summary.json"))
    assert len(summaries) == 1, sorted(
        p.relative_to(pytester.path) for p in pytester.path.rglob("*.json")
    )


def test_a_baseline_lets_known_failures_pass_and_catches_a_new_one(
    library: Path, tmp_path: Path
) -> None:
    """The ratchet: against a baseline where `naive` already fails, the same gate exits 0; a
    scenario that passed there and fails now exits 1, and `diff` names it."""
    code, out, _ = gate(str(library), "--out", str(tmp_path / "base"), "--json", *LEAN)
    assert code == 1  # naive fails the gate itself
    told = json.loads(out)
    assert told["status"] == "fail" and told["runs"]["steady"]["status"] == "pass"
    assert "effect_once" in told["runs"]["naive"]["not_passing"]
    baseline = next((tmp_path / "base" / "gate").iterdir())
    code, out, _ = gate(
        str(library), "--out", str(tmp_path / "same"), "--baseline", str(baseline), *LEAN
    )
    assert code == 0, out
    assert "overall: no regression" in out
    write_scenario(library, "steady", design="tests.broken_designs:NaiveConsumer")  # broken now
    code, out, _ = gate(
        str(library), "--out", str(tmp_path / "worse"), "--baseline", str(baseline), *LEAN
    )
    assert code == 1, out
    assert "REGRESSION  steady: effect_once" in out
    code, _, err = gate(str(library), "--baseline", str(library))
    assert code == 2 and "--baseline: " in err and "holds no result" in err


def test_no_reports_gives_the_same_verdicts_without_html(library: Path, tmp_path: Path) -> None:
    code, out, _ = gate(str(library), "--out", str(tmp_path / "lean"), "--no-reports", "--json")
    assert code == 1  # naive fails, reports or not
    told = json.loads(out)
    assert told["runs"]["steady"]["status"] == "pass"
    assert "effect_once" in told["runs"]["naive"]["not_passing"]
    directory = next((tmp_path / "lean" / "gate").iterdir())
    assert (directory / "junit.xml").is_file() and (directory / "summary.md").is_file()
    for name in ("steady", "naive"):
        assert (directory / name / "summary.json").is_file()
        assert not (directory / name / "report.html").exists()
