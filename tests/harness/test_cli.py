"""The `syncline` command: exit codes and one-sentence errors (DESIGN.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import LAZY_COMMANDS, main
from tests.conftest import SEED_SCENARIO


@pytest.fixture
def short_file(tmp_path: Path) -> Path:
    data = {**SEED_SCENARIO, "duration": "1d", "drain": "1d"}
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_run_prints_verdicts_and_writes_the_run_directory(short_file: Path, tmp_path: Path) -> None:
    code, out, _ = invoke("run", str(short_file), "--seed", "7", "--out", str(tmp_path / "runs"))
    assert code == 0, out
    for checker in (
        "effect_once",
        "billing_to_support",
        "invoiced_before_entitled",
        "nothing_lost",
    ):
        assert checker in out
    assert "overall: PASS" in out
    run_dir = tmp_path / "runs" / "latest"
    for name in (
        "summary.json",
        "history.jsonl",
        "report.md",
        "scenario.yaml",
        "charts/timeline.png",
    ):
        assert (run_dir / name).is_file(), name
    code, out, _ = invoke("analyze", str(run_dir))
    assert code == 0 and "overall: PASS" in out


def test_a_failing_invariant_exits_1(short_file: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(
        "run", str(short_file), "--design", "tests.broken_designs:NaiveConsumer",
        "--out", str(tmp_path / "runs"),
    )  # fmt: skip
    assert code == 1 and "overall: FAIL" in out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"workload": {**SEED_SCENARIO["workload"], "amendmentz": "1/h"}},
            "did you mean 'amendments'?",
        ),
        (
            {"workload": {**SEED_SCENARIO["workload"], "amendments": "-3/h"}},
            "a rate must not be negative",
        ),
    ],
)
def test_bad_scenarios_exit_2_with_one_line(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**SEED_SCENARIO, **change}), encoding="utf-8")
    code, _out, err = invoke("run", str(path), "--out", str(tmp_path / "runs"))
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # refused before anything was written


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.yaml"], "scenario file missing.yaml does not exist"),
        (
            ["run", "subscription_amendment", "--design", "nowhere.module:make"],
            "cannot import design module 'nowhere.module'",
        ),
        (
            ["run", "subscription_amendment", "--design", "tests.broken_designs:Nothing"],
            "has no attribute 'Nothing'",
        ),
        (
            ["run", "subscription_amendment", "--design", "tests.conftest:SEED_SCENARIO"],
            "is not callable",
        ),
        (
            ["run", "subscription_amendment", "--design", "tests.conftest:scenario_with"],
            "is not a design",
        ),
        (
            ["run", "subscription_amendment", "--design", "hub-and-spoke"],
            "unknown design 'hub-and-spoke'",
        ),
        (["analyze", "."], "is not a run directory"),
        (["validate", "nope"], "no scenario file or shipped scenario named 'nope'"),
        (
            ["compare", "subscription_amendment", "--designs", "reference,hub-and-spoke"],
            "unknown design 'hub-and-spoke'",
        ),
        (
            ["compare", "subscription_amendment", "--designs", "reference,reference"],
            "names a design twice",
        ),
        (
            [
                "run",
                "subscription_amendment",
                "--design",
                "batch-esb",
                "--set",
                "designs.batch-esb.intervl=2h",
            ],
            "design batch-esb refused the options `designs.batch-esb` gives it",
        ),
        (
            [
                "run",
                "subscription_amendment",
                "--design",
                "batch-esb",
                "--set",
                "designs.batch-esb.interval=soon",
            ],
            "design batch-esb: bad option",
        ),
    ],
)
def test_bad_input_exits_2_with_one_sentence(args: list[str], message: str) -> None:
    code, out, err = invoke(*args)
    assert code == 2, err
    assert message in err and err.count("\n") == 1
    assert out == ""  # nothing printed before the refusal


def test_compare_runs_the_designs_and_writes_the_comparison(
    short_file: Path, tmp_path: Path
) -> None:
    code, out, _ = invoke(
        "compare", str(short_file), "--designs", "point-to-point,reference", "--seed", "3",
        "--out", str(tmp_path / "runs"), "--workers", "1",
    )  # fmt: skip
    assert code == 0, out
    assert re.search(r"point-to-point +fail", out) and re.search(r"reference +pass", out)
    latest = tmp_path / "runs" / "latest-compare"  # runs/latest stays the newest single run's
    for name in ("comparison.json", "comparison.md", "comparison.html", "charts/windows.png",
                 "charts/duplicate_effects.png",
                 "reference/summary.json", "point-to-point/report.md"):  # fmt: skip
        assert (latest / name).is_file(), name


def test_validate_and_scenarios(short_file: Path) -> None:
    code, out, _ = invoke("validate", str(short_file), "subscription_amendment")
    assert code == 0 and out.count(": ok (") == 2
    code, out, _ = invoke("validate", str(short_file.parent))  # a directory, as gate takes
    assert code == 0 and f"{short_file}: ok (" in out
    code, out, _ = invoke("scenarios")
    assert code == 0 and "subscription_amendment" in out
    code, out, _ = invoke("validate", "missing_tax_code")  # what `scenarios --help` promises
    assert "  world: 300 customers in 6 regions, 7 products; ERP gaps: missing tax codes BR" in out
    assert "  workload: 4/h new subscriptions, 10/h amendments, 2/d renewals" in out
    assert "  systems: cpq salesforce-like, erp netsuite-like" in out


def test_every_option_says_what_it_is_for_and_gate_names_every_exit_code() -> None:
    for command in main.list_commands(click.Context(main)):
        code, out, _ = invoke(command, "--help")
        assert code == 0
        options = re.findall(r"^  (-[-\w, ]+?)(?:\s{2,}|\n)(.*)$", out, flags=re.M)
        bare = [name for name, text in options if not text.strip() or text.lstrip().startswith("[")]
        assert not bare, f"{command}: {bare} have no help text"
    _, out, _ = invoke("gate", "--help")
    assert all(f"{code} " in out for code in (0, 1, 2, 3))


def test_python_dash_m_harness_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage: syncline" in done.stdout and "analyze" in done.stdout


def test_the_shipped_example_plugin_runs_and_is_caught(short_file: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(
        "run", str(short_file), "--design", "examples.straight_through:StraightThrough",
        "--set", "systems.cpq.webhooks.duplicate_probability=5%", "--out", str(tmp_path / "runs"),
    )  # fmt: skip
    assert code == 1
    assert (tmp_path / "runs" / "subscription_amendment" / "straight-through").is_dir()
    assert re.search(r"effect_once\s+fail", out)


def test_set_overrides_a_field_and_points_at_itself_when_wrong(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", "subscription_amendment", "--set", "duration=1d")
    assert code == 0 and "(subscription_amendment, 2d simulated)" in out
    code, _, err = invoke(
        "validate", "subscription_amendment", "--set", "systems.billing.preset=oracle-like"
    )
    assert code == 2 and err.startswith("error: --set systems.billing.preset=oracle-like: ")
    code, _, err = invoke("validate", "subscription_amendment", "--set", "nonsense")
    assert code == 2 and "write it as PATH=VALUE" in err


def test_presets_lists_and_explains() -> None:
    code, out, _ = invoke("presets")
    assert code == 0 and out.count("-like") == 8
    code, out, _ = invoke("presets", "netsuite-like")
    assert code == 0 and "sources:" in out and "assumed:" in out and "limit: 15" in out
    code, _, err = invoke("presets", "oracle-like")
    assert code == 2 and "unknown preset 'oracle-like'" in err


def test_swarm_run_prints_how_to_replay(short_file: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(
        "run", str(short_file), "--swarm", "--seed", "3", "--out", str(tmp_path / "r")
    )
    assert code in (0, 1, 3) and "swarm faults:" in out
    assert "replay:        syncline run " in out and "scenario.yaml --seed 3" in out


def test_trace_follows_one_quote_across_the_systems(short_file: Path, tmp_path: Path) -> None:
    import json

    code, _, _ = invoke("run", str(short_file), "--seed", "7", "--out", str(tmp_path / "runs"))
    run_dir = (tmp_path / "runs" / "latest").resolve()
    with (run_dir / "history.jsonl").open(encoding="utf-8") as lines:
        quote = next(
            record["keys"]["quote"]
            for record in map(json.loads, lines)
            if record.get("event_type") == "quote.approved"
        )
    code, out, _ = invoke("trace", str(run_dir), quote)
    assert code == 0, out
    for step in ("quote.approved emitted", "create_sales_order ok", f"workflow {quote} completed",
                 "entitlement ", "post_invoice ok"):  # fmt: skip
        assert step in out, step
    lanes = {line.split()[2] for line in out.splitlines()[1:-1]}
    assert {"cpq", "orchestrator", "erp", "billing", "support"} <= lanes
    assert (run_dir / "traces" / f"{quote}.png").read_bytes()[:4] == b"\x89PNG"
    code, _, err = invoke("trace", str(run_dir), "Q-999999")
    assert code == 2 and "names Q-999999" in err


def test_a_live_command_without_its_extras_says_which_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(LAZY_COMMANDS, "serve", ("no_such_module_here", "serve_command"))
    monkeypatch.delitem(main.commands, "serve", raising=False)
    code, _, err = invoke("serve", "subscription_amendment")
    assert code == 2
    assert "needs the live extras (no_such_module_here is missing)" in err
    monkeypatch.delitem(main.commands, "serve")  # the real one again for later tests
