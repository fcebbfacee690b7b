"""Hostile requests to `syncline serve` and its orchestrator as real processes: every case of
the probe that found them (issue 17), each answered with a 4xx on one keep-alive connection
that stays open throughout, nothing changed by what was refused, and history lines kept short."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from pathlib import Path
from typing import Any

from harness.scenario import load
from harness.world import build_world
from tests.live.test_choreography_live import CALM
from tests.live.test_end_to_end import Live, wait_until_up

GOOD_LINES = '[{"sku": "SKU", "quantity": 1}]'


class Connection:
    """One keep-alive HTTP/1.1 connection; it fails the test if the server ever closes it."""

    def __init__(self, port: int) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.http.connect()
        self.socket = self.http.sock

    def post(self, path: str, body: bytes | str, headers: dict[str, str]) -> tuple[int, Any]:
        raw = body.encode() if isinstance(body, str) else body
        self.http.request("POST", path, body=raw, headers=headers)
        answer = self.http.getresponse()
        data = answer.read()
        assert self.http.sock is self.socket, (
            f"{path}: the connection was closed after {answer.status}"
        )
        return answer.status, json.loads(data) if data else None

    def close(self) -> None:
        self.http.close()


def signed(secret: str, raw: bytes) -> str:
    now = int(time.time())
    digest = hmac.new(secret.encode(), f"{now}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={now},v1={digest}"


def test_hostile_requests_get_a_4xx_change_nothing_and_keep_the_connection(tmp_path: Path) -> None:
    live = Live(tmp_path)
    options = [part for setting in [*CALM, "faults=[]"] for part in ("--set", setting)]
    with live.serve("--orchestrator", "reference", *options) as services:
        wait_until_up(live.orchestrator_url, services)
        described = json.loads((live.services / "tokens.json").read_text())
        systems, secret = described["systems"], described["signing_secret"]
        sku, customer = _world(live.services)

        def auth(system: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {systems[system]['token']}",
                    "Content-Type": "application/json"}  # fmt: skip

        def quote(**fields: str) -> str:
            parts = {"customer_id": json.dumps(customer),
                     "lines": GOOD_LINES.replace("SKU", sku), **fields}  # fmt: skip
            return "{" + ", ".join(f'"{name}": {value}' for name, value in parts.items()) + "}"

        def line(quantity: str) -> str:
            return quote(lines=f'[{{"sku": "{sku}", "quantity": {quantity}}}]')

        cpq = Connection(int(systems["cpq"]["url"].rsplit(":", 1)[1]))
        support = Connection(int(systems["support"]["url"].rsplit(":", 1)[1]))
        orchestrator = Connection(live.orchestrator_port)
        states_before = _state_records(live.services)
        answers: dict[str, int] = {}

        for name, body in [
            ("quantity 1e400", line("1e400")), ("quantity Infinity", line("Infinity")),
            ("quantity NaN", line("NaN")), ("quantity 2.7", line("2.7")),
            ("quantity 10**30", line(str(10**30))),
            ("lone surrogate", quote(customer_id='"\\ud800"')),
            ("term_months abc", quote(term_months='"abc"')),
            ("term_months 1e400", quote(term_months="1e400")),
            ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000),
            ("5,000-character customer id", quote(customer_id=json.dumps("x" * 5000))),
        ]:  # fmt: skip
            answers[name], told = cpq.post("/v1/create_quote", body, auth("cpq"))
            assert told["error"]["code"] == "invalid_request", (name, told)
        answers["open_case with null, list and object"], _ = support.post(
            "/v1/open_case", '{"customer_id": null, "subject": [1], "priority": {}}',
            auth("support"),
        )  # fmt: skip
        answers["open_case 10 MB subject"], told = support.post(
            "/v1/open_case", json.dumps({"customer_id": customer, "subject": "x" * 10_000_000}),
            auth("support"),
        )  # fmt: skip
        assert told["error"]["code"] == "body_too_large"
        answers["10 MB body, no token"], _ = cpq.post("/v1/create_quote", b" " * 10_000_000, {})
        answers["wrong token"], _ = cpq.post("/v1/create_quote", quote(), auth("erp"))
        answers["no such operation"], _ = cpq.post("/v1/drop_everything", "{}", auth("cpq"))
        padded = {**auth("cpq"), "X-Padding": "x" * 66_000}
        answers["66 KB header"], told = cpq.post("/v1/get_quote", "{}", padded)
        assert told["error"]["code"] == "headers_too_large"
        admin = {"Authorization": f"Bearer {described['admin_token']}"}
        answers["brownout factor x"], _ = cpq.post("/admin/faults/brownout/start",
                                                   '{"latency_factor": "x"}', admin)  # fmt: skip
        answers["brownout unknown parameter"], _ = cpq.post("/admin/faults/brownout/start",
                                                            '{"factor": 2}', admin)  # fmt: skip

        event = {
            "event_id": "E-1", "type": "quote.approved", "system": "cpq", "occurred_at": 0.0,
            "payload": {"quote_id": "Q-999999"}, "keys": {"quote": "Q-999999"}, "delivery": 1,
        }  # fmt: skip
        raw = json.dumps(event).encode()
        deep = b"[" * 100_000 + b"]" * 100_000
        infinite = raw.replace(b'"delivery": 1', b'"delivery": 1e400')
        for name, path, body, signature in [
            ("webhook unsigned, nested 100,000 deep", "/webhooks/cpq", deep, None),
            ("webhook signature with non-ASCII hex", "/webhooks/cpq", raw, "t=1,v1=\u00e9\u00e9"),
            ("webhook signed, delivery 1e400", "/webhooks/cpq", infinite, signed(secret, infinite)),
            ("webhook signed, to /webhooks/nosuch", "/webhooks/nosuch", raw, signed(secret, raw)),
            ("webhook 66 KB signature", "/webhooks/cpq", raw, "t=1,v1=" + "a" * 66_000),
            ("webhook 10 MB body", "/webhooks/cpq", b" " * 10_000_000, None),
        ]:  # fmt: skip
            headers = {"Content-Type": "application/json"}
            if signature is not None:
                headers["Syncline-Signature"] = signature
            encoded = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}
            answers[name], _ = orchestrator.post(path, body, encoded)

        refused = {name: status for name, status in answers.items() if not 400 <= status < 500}
        assert refused == {}, answers
        assert answers["10 MB body, no token"] == answers["webhook 10 MB body"] == 413
        assert answers["66 KB header"] == answers["webhook 66 KB signature"] == 431
        assert answers["webhook unsigned, nested 100,000 deep"] == 401
        assert _state_records(live.services) == states_before  # nothing refused wrote a record

        status, made = cpq.post("/v1/create_quote", quote(), auth("cpq"))  # same connection
        assert status in (200, 201), made
        for connection in (cpq, support, orchestrator):
            connection.close()
    history = (live.services / "history.jsonl").read_text().splitlines()
    assert max(len(line) for line in history) < 10_000  # huge strings cut, with a marker


def _world(services: Path) -> tuple[str, str]:
    """A SKU and a customer of the world serve built (seed 0)."""
    world = build_world(load(str(services / "scenario.yaml")).world, 0)
    return sorted(world.catalog.products)[0], world.customers[0].customer_id


def _state_records(services: Path) -> int:
    text = (services / "history.jsonl").read_text()
    return sum(1 for line in text.splitlines() if line.startswith('{"kind":"state"'))
