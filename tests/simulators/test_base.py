"""The system-of-record contract: idempotency keys, refusals without side effects, IDs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from hypothesis import example, given
from hypothesis import strategies as st

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord
from simulators.requests import LINES, Request, Text, Whole, request


class Ledger(SystemOfRecord):
    name = "ledger"
    requests: ClassVar[Mapping[str, Request]] = {
        **SystemOfRecord.requests,
        "post": request({"amount": Whole(-100, 100)}),
        "write_then_fail": request(),
    }

    def op_post(self, payload: Payload, now: float) -> Payload:
        if payload["amount"] < 0:
            raise BusinessError("NEGATIVE", "amounts are positive")
        entry_id = self.next_id("E")
        self._create("entry", entry_id, {"amount": payload["amount"]}, {}, effect_key=entry_id)
        self._emit("entry.posted", {"entry_id": entry_id}, {"entry": entry_id})
        return {"entry_id": entry_id}

    def op_write_then_fail(self, payload: Payload, now: float) -> Payload:
        raise BusinessError("LATE", "refused after checking")


def post(ledger: Ledger, now: float = 0.0, key: str | None = "k1", amount: int = 5) -> Any:
    return ledger.handle("post", {"amount": amount}, now, key)


def test_same_key_same_payload_replays_without_applying() -> None:
    ledger = Ledger()
    first, again = post(ledger), post(ledger, now=60.0)
    assert first.ok and again.ok and again.replayed
    assert again.body == first.body
    assert again.changes == () and again.events == ()
    assert len(ledger.table("entry")) == 1


def test_same_key_other_payload_is_refused_with_422() -> None:
    ledger = Ledger()
    post(ledger)
    clash = post(ledger, amount=6)
    assert clash.error is not None and clash.error.code == "idempotency_key_reused"
    assert clash.status == 422
    assert len(ledger.table("entry")) == 1


def test_a_fingerprint_names_the_request_in_place_of_its_payload() -> None:
    """A vendor wire's retry translates against records the first attempt changed: the
    request it came as, not its translation, is what the key is compared against."""
    ledger = Ledger()
    first = ledger.handle("post", {"amount": 5}, 0.0, "k1", fingerprint="POST /v1/x a=1")
    again = ledger.handle("post", {"amount": 7}, 1.0, "k1", fingerprint="POST /v1/x a=1")
    assert again.replayed and again.body == first.body
    other = ledger.handle("post", {"amount": 5}, 2.0, "k1", fingerprint="POST /v1/x a=2")
    assert other.error is not None and other.error.code == "idempotency_key_reused"
    assert len(ledger.table("entry")) == 1


def test_expired_key_applies_again() -> None:
    ledger = Ledger(IdempotencyRule(retention_s=3600))
    post(ledger, now=0)
    later = post(ledger, now=3601)
    assert later.ok and not later.replayed
    assert len(ledger.table("entry")) == 2


def test_expired_keys_are_forgotten() -> None:
    ledger = Ledger(IdempotencyRule(retention_s=10))
    for number in range(100):
        post(ledger, now=float(number), key=f"k{number}")
    assert len(ledger._idem_store) <= 12


def test_unsupported_keys_apply_every_time() -> None:
    ledger = Ledger(IdempotencyRule(supported=False))
    post(ledger)
    post(ledger)
    assert len(ledger.table("entry")) == 2


def test_business_error_changes_nothing_and_is_replayed() -> None:
    ledger = Ledger()
    refused = post(ledger, amount=-1)
    assert refused.error is not None and refused.error.code == "NEGATIVE"
    assert refused.status == 400 and refused.changes == () and refused.events == ()
    replay = post(ledger, amount=-1)
    assert replay.replayed and replay.error is not None


def test_unknown_operation_and_malformed_payload_are_business_errors() -> None:
    ledger = Ledger()
    unknown = ledger.handle("delete_everything", {}, 0.0)
    assert unknown.error is not None and unknown.error.code == "unknown_operation"
    assert "post" in unknown.error.message
    malformed = ledger.handle("post", {}, 0.0)
    assert malformed.error is not None and malformed.error.code == "invalid_request"


def test_ids_are_counters_and_events_carry_schema_version() -> None:
    ledger = Ledger()
    first = post(ledger, key=None)
    second = post(ledger, key=None)
    assert (first.body["entry_id"], second.body["entry_id"]) == ("E-000001", "E-000002")
    assert first.status == 201
    assert first.events[0].payload["schema_version"] == 1
    assert first.events[0].event_id == "LEDGER-EVT-000001"


def test_a_change_feed_answers_polls_after_a_cursor() -> None:
    from simulators.cpq import CPQ
    from tests.harness.test_reference_properties import LINES, WORLD

    cpq = CPQ(WORLD.catalog, WORLD.accounts())
    refused = cpq.handle("list_changes", {}, 0.0)
    assert refused.error is not None and refused.error.code == "not_enabled"
    cpq.keep_feed()
    for customer in WORLD.customers[:3]:
        created = cpq.handle(
            "create_quote", {"customer_id": customer.customer_id, "lines": LINES}, 1
        )
        cpq.handle("approve_quote", {"quote_id": created.body["quote_id"]}, 2.0)
    first = cpq.handle("list_changes", {"types": ["quote.approved"], "limit": 2}, 3.0).body
    assert [c["type"] for c in first["changes"]] == ["quote.approved"] * 2
    rest = cpq.handle("list_changes", {"cursor": first["cursor"], "limit": 10}, 3.0).body
    approved = [c for c in rest["changes"] if c["type"] == "quote.approved"]
    assert len(approved) == 1 and approved[0]["event_id"] not in {
        c["event_id"] for c in first["changes"]
    }
    again = cpq.handle("list_changes", {"cursor": rest["cursor"]}, 4.0).body
    assert again == {"changes": [], "cursor": rest["cursor"], "oldest": 0}  # nothing expired


class Archiving(Ledger):
    """A ledger whose entries are archived when idle; an entry marked `held` stays."""

    name = "archiving"
    archived = frozenset({"entry"})
    requests: ClassVar[Mapping[str, Request]] = {
        **Ledger.requests,
        "post": request(),
        "touch": request({"entry_id": Text()}),
    }

    def op_touch(self, payload: Payload, now: float) -> Payload:
        entry = self.get("entry", payload["entry_id"])
        self._update("entry", entry["entry_id"], {"held": payload.get("held", False)}, {})
        return {}

    def op_post(self, payload: Payload, now: float) -> Payload:
        entry_id = self.next_id("E")
        self._create("entry", entry_id, {"entry_id": entry_id}, {}, effect_key=entry_id)
        return {"entry_id": entry_id}

    def still_open(self, entity: str, record: Any) -> bool:
        return bool(record.get("held"))


def test_idle_records_are_archived_after_the_window_and_written_ones_wait() -> None:
    day = 86400.0
    ledger = Archiving(archive_after_s=2 * day)
    old, touched, held = (ledger.handle("post", {}, 0.0).body["entry_id"] for _ in range(3))
    ledger.handle("touch", {"entry_id": touched}, 1.5 * day)
    ledger.handle("touch", {"entry_id": held, "held": True}, 1.0 * day)
    ledger.handle("post", {}, 2.5 * day)  # any request archives what is due
    assert set(ledger.table("entry")) == {touched, held, "E-000004"}
    assert ledger.archived_records == 1
    missing = ledger.handle("touch", {"entry_id": old}, 2.5 * day)
    assert missing.error is not None and missing.error.code == "not_found"
    ledger.handle("post", {}, 6.0 * day)
    assert set(ledger.table("entry")) == {held, "E-000005"}  # held stays while it is open


def test_a_run_with_aggressive_archiving_still_passes_and_keeps_tables_small() -> None:
    """Two days' archiving over a five-day run: the reference never needs an archived record,
    and what the systems hold follows the window, not the run."""
    from harness.checkers import Dispatch, build
    from harness.designs.reference import ReferenceDesign
    from harness.sim.runtime import Simulation
    from tests.conftest import scenario_with

    scenario = scenario_with(duration="5d", **{"slo.end_to_end": {"p95": "5h", "max": "1d"}})
    dispatch = Dispatch(build(scenario))
    simulation = Simulation(scenario, ReferenceDesign, 7, dispatch)
    for system in simulation.systems.values():
        system.archive_after_s = 2 * 86400.0
    simulation.run()
    failing = [v.checker for v in dispatch.verdicts() if v.status == "fail"]
    assert failing == []
    cpq, erp = simulation.systems["cpq"], simulation.systems["erp"]
    assert cpq.archived_records > 0 and erp.archived_records > 0
    quotes = len(cpq.table("quote"))
    made = int(cpq.next_id("Q").removeprefix("Q-")) - 1
    assert quotes < made * 0.8  # the older quotes are gone, latest quotes of contracts stay
    assert len(cpq.table("contract")) == len(cpq.contract_ids)  # contracts are never archived


#: Order lines at the edges of what `Lines` accepts, each field on either side of its bound.
order_line = st.one_of(
    st.fixed_dictionaries(
        {
            "sku": st.text("ABC-1", min_size=1, max_size=6)
            | st.sampled_from(["", "A" * 64, "A" * 65, "é", "\ud800"]),
            "quantity": st.integers(1, 3)
            | st.sampled_from([0, 1_000_000, 1_000_001, True, 2.0, None]),
        },
        optional={
            "kind": st.sampled_from(["hardware", "x" * 256, "x" * 257, 1.5, None, True, [1]]),
        },
    ),
    st.sampled_from([None, "line", []]),
)
order_lines = st.lists(order_line, max_size=3) | st.sampled_from(
    [None, "lines", (), [{"sku": "A", "quantity": 1}] * 201]
)


@given(order_lines)
@example([{"sku": "\ud800", "quantity": 1}])  # valid length, yet no Unicode text
def test_order_lines_passed_at_once_are_what_the_full_check_passes(lines: Any) -> None:
    assert LINES.problem(lines) == LINES.explained(lines)
