"""Live commands fail clearly: nothing listening, a fault serve cannot enact, a duration in the
CLI's units, a settle that ran out of time."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from harness import checkers
from harness.checkers.base import Verdict
from harness.cli import main
from harness.live.judge import undecided
from harness.live.load import Settled
from harness.scenario import load
from tests.live.test_end_to_end import free_base_port


def fake_services(directory: Path, first_port: int) -> None:
    """What `serve` writes, pointing at ports where nothing listens."""
    names = ("cpq", "erp", "billing", "support")
    systems = {n: {"url": f"http://127.0.0.1:{first_port + i}", "token": "t"}
               for i, n in enumerate(names)}  # fmt: skip
    described = {"systems": systems, "admin_token": "a", "signing_secret": "s",
                 "time_scale": 60, "started_unix": time.time(), "seed": 0}  # fmt: skip
    directory.mkdir(parents=True)
    (directory / "tokens.json").write_text(json.dumps(described))
    (directory / "scenario.yaml").write_text(load("subscription_amendment").to_yaml())


def test_load_with_nothing_listening_says_so_before_locust_starts(tmp_path: Path) -> None:
    base = free_base_port(10)
    fake_services(tmp_path / "live", base)
    began = time.monotonic()
    result = CliRunner().invoke(
        main,
        ["load", "subscription_amendment", "--services", str(tmp_path / "live"),
         "--orchestrator", f"http://127.0.0.1:{base + 9}", "--duration", "1m"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert time.monotonic() - began < 10
    assert f"nothing answers at http://127.0.0.1:{base} (cpq)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "live" / "loads").exists()  # Locust never started


def test_conform_names_the_orchestrator_that_does_not_answer(tmp_path: Path) -> None:
    base = free_base_port(10)
    fake_services(tmp_path / "live", base)
    result = CliRunner().invoke(
        main,
        ["conform", "subscription_amendment", "--services", str(tmp_path / "live"),
         "--orchestrator-url", f"http://127.0.0.1:{base + 9}", "--duration", "1m"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "nothing answers at" in result.output


def test_durations_take_the_cli_units_and_refuse_nonsense(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["conform", "subscription_amendment", "--orchestrator-url", "http://x",
               "--duration", "soon"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "cannot read 'soon' as a duration" in result.output


def test_serve_refuses_a_crash_it_cannot_enact(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "subscription_amendment", "--port", str(free_base_port(5)),
               "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "crashes the orchestrator at 2026-03-02T10:30Z" in result.output
    assert "--orchestrator reference" in result.output
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_settle_that_timed_out_leaves_quiescent_verdicts_unknown() -> None:
    settled = Settled(False, 1329, 60.0)
    assert settled.why_not == (
        "still moving after 1m (--settle): 1,329 workflows in flight or webhooks waiting to be "
        "delivered"
    )
    built = checkers.build(load("subscription_amendment"))
    failed = Verdict("nothing_lost", "fail", "3 lost")
    [judged] = undecided([failed], built)
    assert (judged.status, judged.summary) == ("unknown", "not settled, so not judged: 3 lost")
    assert undecided([Verdict("nothing_lost", "pass", "ok")], built)[0].status == "pass"
    assert undecided([Verdict("effect_once", "fail", "2 twice")], built)[0].status == "fail"


def test_an_orchestrator_whose_broker_does_not_answer_says_so(tmp_path: Path) -> None:
    base = free_base_port(10)
    fake_services(tmp_path / "live", base)
    tokens = tmp_path / "live" / "tokens.json"
    described = json.loads(tokens.read_text())
    described |= {"broker": f"redis://127.0.0.1:{base + 8}/0", "broker_namespace": "test"}
    tokens.write_text(json.dumps(described))
    result = CliRunner().invoke(
        main, ["orchestrator", str(tmp_path / "live"), "--design", "choreography", "--port",
               str(base + 9)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"the broker at redis://127.0.0.1:{base + 8}/0 does not answer" in result.output
