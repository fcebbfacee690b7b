"""The sans-IO engine, stepped by hand: no driver, no clock."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from harness.effects import Call, CallError, Load, Note, Now, Publish, Reply, Sleep
from harness.engine import Inbox, call_with_retry, exception_queue, inbox, outbox, retry
from tests.journal import answer_journal
from tests.strategies import event_ids

TRANSIENT = Reply({}, CallError("transient", "unavailable"))
BUSINESS = Reply({}, CallError("business", "TAX_CODE_MISSING"))
OK = Reply({"order_id": "SO-1"})


def drive(
    steps: object, replies: list[Reply], call_takes: float = 30.0
) -> tuple[list[object], Reply]:
    """Answer each Call with the next reply (`call_takes` seconds later), each Sleep with None
    (the clock moves on by its seconds) and each Now with the clock; collect the effects."""
    effects: list[object] = []
    answer: object = None
    clock = 0.0
    try:
        while True:
            effect = steps.send(answer)  # type: ignore[attr-defined]
            effects.append(effect)
            answer = None
            if isinstance(effect, Call):
                clock += call_takes
                answer = replies.pop(0)
            elif isinstance(effect, Sleep):
                clock += effect.seconds
            elif isinstance(effect, Now):
                answer = clock
    except StopIteration as done:
        return effects, done.value


def test_policy_repr_is_readable() -> None:
    assert repr(retry(initial=1, coefficient=2, max_attempts=8)) == (
        "retry(initial=1s, coefficient=2, max_interval=100s, max_attempts=8, jitter=±20%)"
    )
    assert "max_attempts=∞" in repr(retry())


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=2**32))
def test_backoff_grows_is_capped_and_jitters_within_bounds(attempt: int, seed: int) -> None:
    policy = retry(initial=1, coefficient=2, max_interval=300, jitter=0.2)
    delay = policy.delay(attempt, TRANSIENT.error, random.Random(seed))  # type: ignore[arg-type]
    base = min(2 ** (attempt - 1), 300)
    assert base * 0.8 <= delay <= base * 1.2


def test_retry_after_is_a_floor() -> None:
    policy = retry(initial=1, max_interval=300, jitter=0)
    throttled = CallError("transient", "429", retry_after=120)
    assert policy.delay(1, throttled, random.Random(1)) == 120
    assert policy.delay(9, throttled, random.Random(1)) == 256


def test_transient_errors_are_retried_until_success_with_the_same_key() -> None:
    call = Call("erp", "create_sales_order", {"q": 1}, idem_key="Q-1:erp-order")
    effects, reply = drive(
        call_with_retry(call, retry(), random.Random(0)), [TRANSIENT, TRANSIENT, OK]
    )
    calls = [e for e in effects if isinstance(e, Call)]
    assert reply == OK
    assert [c.attempt for c in calls] == [1, 2, 3]
    assert {c.idem_key for c in calls} == {"Q-1:erp-order"}
    assert sum(isinstance(e, Sleep) for e in effects) == 2


def test_business_errors_are_never_retried_and_attempts_are_capped() -> None:
    call = Call("erp", "validate_order", {})
    effects, reply = drive(call_with_retry(call, retry(), random.Random(0)), [BUSINESS])
    assert reply == BUSINESS and len(effects) == 1
    effects, reply = drive(
        call_with_retry(call, retry(max_attempts=3), random.Random(0)), [TRANSIENT] * 3
    )
    assert reply == TRANSIENT and sum(isinstance(e, Call) for e in effects) == 3


@pytest.mark.parametrize(
    "kwargs", [{"initial": 0}, {"coefficient": 0.5}, {"max_attempts": 0}, {"jitter": 1.5}]
)
def test_bad_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        retry(**kwargs)  # type: ignore[arg-type]


def test_inbox_refuses_a_retention_below_72_hours() -> None:
    with pytest.raises(ValueError, match="72 h"):
        inbox(24 * 3600)
    assert "retention=72h" in repr(inbox())


class InboxModel(RuleBasedStateMachine):
    """The inbox against a plain dict of first-seen times, under random orders and duplicates."""

    def __init__(self) -> None:
        super().__init__()
        self.inbox = Inbox(retention_s=100.0)
        self.first_seen: dict[str, float] = {}
        self.now = 0.0

    @rule(advance=st.floats(min_value=0, max_value=60))
    def time_passes(self, advance: float) -> None:
        self.now += advance

    @rule(event_id=event_ids)
    def deliver(self, event_id: str) -> None:
        seen = self.first_seen.get(event_id)
        fresh = seen is None or self.now >= seen + 100.0
        assert self.inbox.accept(event_id, self.now) == fresh
        if fresh:
            self.first_seen[event_id] = self.now

    @invariant()
    def remembers_no_more_than_the_window(self) -> None:
        live = {e for e, t in self.first_seen.items() if self.now < t + 100.0}
        assert len(self.inbox) >= len(live)
        assert len(self.inbox) <= len(self.first_seen)


TestInboxModel = InboxModel.TestCase
TestInboxModel.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


# -- circuit breaker and read-back confirmation ---------------------------------------------

from harness.engine import Confirm, breaker  # noqa: E402


def test_breaker_opens_parks_probes_and_closes() -> None:
    cb = breaker(window=10, failure_rate=0.5, minimum_calls=4, open_for=60, probes=2)
    assert cb.admit(0.0) == (None, None)
    for t in (1.0, 2.0, 3.0):
        assert cb.record(True, t) is None
    assert cb.record(True, 4.0) == "open"
    assert cb.admit(10.0) == (54.0, None)  # park until it half-opens
    assert cb.admit(64.0) == (None, "half_open")
    assert cb.admit(64.0) == (None, None)
    assert cb.admit(64.0)[0] == 5.0  # only two probes at a time
    assert cb.record(False, 65.0) is None
    assert cb.record(False, 65.0) == "closed"
    assert "closed" in repr(cb)


def test_a_failed_probe_opens_again_and_business_errors_do_not_count() -> None:
    cb = breaker(window=4, failure_rate=0.5, minimum_calls=2, open_for=10, probes=1)
    cb.record(True, 0.0)
    cb.record(True, 0.0)
    assert cb.state == "open"
    cb.admit(10.0)
    assert cb.record(True, 10.5) == "open" and cb.opened_at == 10.5
    with pytest.raises(ValueError):
        breaker(window=2, minimum_calls=3)


def test_an_open_breaker_parks_the_call_and_notes_each_change() -> None:
    cb = breaker(window=2, failure_rate=0.5, minimum_calls=2, open_for=30, probes=1)
    call = Call("erp", "create_sales_order", {}, "K")
    steps = call_with_retry(call, retry(jitter=0), random.Random(0), cb)
    clock, replies, seen = (
        iter([0.0, 1.0, 2.0, 3.0, 3.0, 33.0, 34.0]),
        [TRANSIENT, TRANSIENT, OK],
        [],
    )
    answer: object = None
    try:
        while True:
            effect = steps.send(answer)
            seen.append(effect)
            answer = (
                next(clock)
                if isinstance(effect, Now)
                else replies.pop(0)
                if isinstance(effect, Call)
                else None
            )
    except StopIteration as done:
        assert done.value == OK
    notes = [(e.subject, e.event) for e in seen if isinstance(e, Note)]
    assert notes == [("erp", "open"), ("erp", "half_open"), ("erp", "closed")]
    assert Sleep(30.0) in seen  # parked for the open interval, not failed


def test_confirm_reads_back_before_resending_an_ambiguous_write() -> None:
    write = Call("support", "upsert_entitlement", {"contract_version": 3})
    read = Call("support", "get_entitlement", {"contract_id": "CT-1"})
    confirm = Confirm(read, lambda reply: reply.body.get("contract_version") == 3)
    lost = Reply({}, CallError("ambiguous", "timeout"))
    effects, reply = drive(
        call_with_retry(write, retry(), random.Random(0), confirm=confirm),
        [lost, Reply({"contract_version": 3})],
    )
    calls = [e for e in effects if isinstance(e, Call)]
    assert [c.operation for c in calls] == ["upsert_entitlement", "get_entitlement"]
    assert reply.ok and reply.body["contract_version"] == 3
    # unanswered for 30 s, the write may be in the vendor's hands as long again: wait, then look
    between = effects[effects.index(calls[0]) : effects.index(calls[1])]
    assert [e.seconds for e in between if isinstance(e, Sleep)] == [30.0]
    # Not there yet: it may still be queued at the vendor. Look again, twice as late each
    # time, and send again only once the vendor can no longer be holding it (settle_s).
    not_yet = Reply({"contract_version": 2})
    effects, reply = drive(
        call_with_retry(write, retry(), random.Random(0), confirm=confirm),
        [lost, *[not_yet] * 10, OK],
    )
    operations = [e.operation for e in effects if isinstance(e, Call)]
    assert operations[0] == operations[-1] == "upsert_entitlement" and reply.ok
    assert set(operations[1:-1]) == {"get_entitlement"} and len(operations) > 3
    waits = [e.seconds for e in effects if isinstance(e, Sleep)]
    assert waits[:3] == [30.0, 60.0, 120.0]
    # every look and wait is counted from the send: the write goes again only after settle_s
    assert 30.0 + sum(waits) + 30.0 * (len(operations) - 2) >= confirm.settle_s


# -- the outbox ---------------------------------------------------------------------------


def run_outbox(
    steps: object, journal: dict[str, Any], acks: list[Reply], now: float = 0.0
) -> list[object]:
    """Interpret an outbox generator against a journal; Publish gets the next of `acks`."""
    effects: list[object] = []
    answer: object = None
    try:
        while True:
            effect = steps.send(answer)  # type: ignore[attr-defined]
            effects.append(effect)
            answer = None
            if isinstance(effect, Publish):
                answer = acks.pop(0)
            elif isinstance(effect, Now):
                answer = now
            else:
                answer = answer_journal(effect, journal)[1]
    except StopIteration:
        return effects


ACK = Reply({"published": 1})


def test_the_outbox_keeps_a_message_until_the_broker_acknowledges_it() -> None:
    box, journal = outbox(retry(initial=1, max_interval=60, jitter=0)), {}
    run_outbox(box.stage("contract.synced", "M-1", {"v": 1}, {"contract": "C-1"}), journal, [])
    assert set(journal["outbox"]) == {"M-1"}
    effects = run_outbox(box.relay("M-1", random.Random(0)), journal, [TRANSIENT, TRANSIENT, ACK])
    sent = [e for e in effects if isinstance(e, Publish)]
    assert [(p.message_id, p.attempt) for p in sent] == [("M-1", 1), ("M-1", 2), ("M-1", 3)]
    assert [e for e in effects if isinstance(e, Sleep)] == [Sleep(1.0), Sleep(2.0)]
    assert journal["outbox"] == {}
    assert Note("outbox", "M-1", "published", {"attempts": 3}) in effects


def test_an_outbox_with_an_attempt_limit_holds_what_it_could_not_send() -> None:
    box, journal = outbox(retry(max_attempts=2, jitter=0)), {}
    run_outbox(box.stage("t", "M-1", {}, {}), journal, [])
    effects = run_outbox(box.relay("M-1", random.Random(0)), journal, [TRANSIENT, TRANSIENT])
    assert "M-1" in journal["outbox"]
    assert Note("outbox", "M-1", "held", {"attempts": 2, "code": "unavailable"}) in effects
    assert run_outbox(box.relay("gone", random.Random(0)), journal, []) == [Load("outbox", "gone")]


def test_after_a_restart_the_relay_sends_everything_staged_oldest_first() -> None:
    box, journal = outbox(), {}
    for staged_at, message in ((5.0, "M-2"), (9.0, "M-1")):
        run_outbox(box.stage("t", message, {}, {}), journal, [], staged_at)
    effects = run_outbox(outbox().relay_all(random.Random(0)), journal, [ACK, ACK])
    assert [e.message_id for e in effects if isinstance(e, Publish)] == ["M-2", "M-1"]
    assert journal["outbox"] == {}
    assert repr(box).startswith("outbox(relay=retry(initial=1s")


# -- the exception queue and the dead letters ---------------------------------------------


def test_parked_work_waits_for_an_operator_who_sees_how_long_it_waited() -> None:
    queue, journal = exception_queue(), {"workflow": {"Q-1": {"status": "started", "event": {}}}}
    effects = run_outbox(queue.park("Q-1", "TAX_CODE_MISSING", "no tax code", {}), journal, [], 60)
    entry = journal["workflow"]["Q-1"]
    assert (entry["status"], entry["code"], entry["parked_at"]) == (
        "parked",
        "TAX_CODE_MISSING",
        60,
    )
    assert Note("exceptions", "Q-1", "parked", {"code": "TAX_CODE_MISSING",
                                                "reason": "no tax code"}) in effects  # fmt: skip
    taken: list[object] = []
    steps = queue.take("Q-1", "operator.resolve")
    effects = run_outbox(_capture(steps, taken), journal, [], 3660)
    assert taken == [entry]
    assert Note("exceptions", "Q-1", "taken",
                {"action": "operator.resolve", "parked_for_s": 3600}) in effects  # fmt: skip


def test_a_dead_letter_keeps_the_failure_and_only_exceptions_can_be_taken() -> None:
    queue = exception_queue()
    journal = {"workflow": {"Q-1": {"status": "started", "event": {"type": "quote.approved"}}}}
    run_outbox(queue.dead_letter("Q-1", "billing", "503", "down", {}), journal, [], 7)
    entry = journal["workflow"]["Q-1"]
    assert entry["event"] == {"type": "quote.approved"}  # the original message
    assert entry["failure"] == {"step": "billing", "code": "503", "reason": "down", "at": 7}
    journal["workflow"]["Q-2"] = {"status": "started"}
    taken: list[object] = []
    effects = run_outbox(_capture(queue.take("Q-2", "operator.skip"), taken), journal, [])
    assert taken == [None]
    assert Note("exceptions", "Q-2", "nothing_to_act_on", {"action": "operator.skip"}) in effects
    assert repr(queue) == "exception_queue(states=parked|dead_lettered, journal_table='workflow')"


def _capture(steps: Any, into: list[object]) -> Any:
    into.append((yield from steps))
