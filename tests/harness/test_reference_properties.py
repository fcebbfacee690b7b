"""Property tests: the reference and its engine under random interleavings, with no driver.

A small synchronous driver of the one interpreter (harness.interpreter) stands in for the SimPy
driver: handlers run until they block (a call, a sleep, a lock), as they do there, and
Hypothesis chooses what happens between: which
delivery arrives next (reordering), duplicates, whether a call is applied, ghost-written or
refused (an outage), and orchestrator crashes that drop the design and every handler in flight.
At quiescence every invariant must hold: each effect once, versions monotonic, no partial update
(ERP, billing and support agree on every contract's version), nothing lost, every message the
outbox staged published (at least once: the broker may take a message and lose its ack), and
every system holds the whole contract as CPQ last approved it, even when an amendment was parked
on a business refusal while a later version (a renewal, say) went through, and operators resumed
it afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import Acquire, Call, CallError, Note, Publish, Reply, Sleep
from harness.history import Record, WorkflowRecord
from harness.interpreter import HandlerRun, MemoryJournal, Steps
from harness.seeds import stream
from harness.world import build_world
from simulators.base import DomainEvent, SystemOfRecord
from simulators.billing import Billing
from simulators.cpq import CPQ
from simulators.erp import ERP
from simulators.support import Support
from tests.broken_designs import NaiveConsumer, RenewsOnlyTheTerm
from tests.conftest import scenario_with

WORLD = build_world(scenario_with(**{"world.gaps.missing_tax_codes": []}).world, 1)
LINES = [{"sku": "SW-FLEET-STD", "quantity": 5}, {"sku": "SUP-STANDARD", "quantity": 5}]
UPGRADE = [{"sku": "SW-FLEET-PRO", "quantity": 5}, {"sku": "SUP-PREMIUM", "quantity": 5}]


class Handler:
    """One handler in flight: the interpreter's run of it and the effect it is blocked on."""

    def __init__(self, run: HandlerRun) -> None:
        self.run, self.waits = run, run.run()
        self.pending: Any = None
        self.done = False
        self.result: Any = None


class ReferenceUnderChaos(RuleBasedStateMachine):
    design_factory: Any = ReferenceDesign

    def __init__(self) -> None:
        super().__init__()
        self.systems: dict[str, SystemOfRecord] = {
            "cpq": CPQ(WORLD.catalog, WORLD.accounts()),
            "erp": ERP(WORLD.erp_master),
            "billing": Billing(WORLD.catalog),
            "support": Support(),
        }
        self.journal = MemoryJournal()
        self.design = self.design_factory()
        self.context = Context(stream(1, "design"))
        self.clock = 0.0
        self.deliveries: list[DomainEvent] = []
        self.handlers: list[Handler] = []
        self.locks: dict[str, Handler] = {}
        self.approved: list[tuple[str, int]] = []  # (contract, version)
        self.effects: dict[tuple[str, str, str], int] = {}
        self.seen_versions: dict[tuple[str, str], int] = {}
        self.parked: set[tuple[str, int]] = set()
        self.parked_workflows: set[str] = set()
        self.gap = False  # ERP refuses every validation until operators fix its master data
        self.staged: set[str] = set()
        self.published: dict[str, int] = {}

    # -- the world ---------------------------------------------------------------------

    def _commit(self, system: str, operation: str, payload: Any, key: str | None) -> Any:
        outcome = self.systems[system].handle(operation, payload, self.clock, key)
        for change in outcome.changes:
            if change.effect_key is not None:
                effect = (change.system, change.entity, change.effect_key)
                self.effects[effect] = self.effects.get(effect, 0) + 1
            version = change.keys.get("contract_version")
            if version is not None and change.entity in ("contract", "subscription", "entitlement"):
                slot = (change.system, str(change.keys["contract"]))
                assert int(version) >= self.seen_versions.get(slot, 0), f"stale overwrite {slot}"
                self.seen_versions[slot] = int(version)
        for event in outcome.events:
            if event.type in self.design.subscriptions:
                self.deliveries.append(event)
        return outcome

    @rule(new=st.booleans(), pick=st.integers(0, 99))
    def approve_a_quote(self, new: bool, pick: int) -> None:
        cpq = self.systems["cpq"]
        assert isinstance(cpq, CPQ)
        if new or not cpq.contract_ids:
            customer = WORLD.customers[pick % len(WORLD.customers)].customer_id
            request: dict[str, Any] = {"customer_id": customer, "lines": LINES}
        else:
            contract = cpq.contract_ids[pick % len(cpq.contract_ids)]
            current = [
                {"sku": line["sku"], "quantity": line["quantity"]}
                for line in cpq.latest_quote(contract)["lines"]
            ]  # CPQ's quote lines also carry the product's kind
            request = {"contract_id": contract, "lines": UPGRADE if current == LINES else LINES}
        created = self._commit("cpq", "create_quote", request, None)
        self._commit("cpq", "approve_quote", {"quote_id": created.body["quote_id"]}, None)
        self.approved.append((created.body["contract_id"], created.body["contract_version"]))

    @rule(pick=st.integers(0, 99))
    @precondition(lambda self: self.systems["cpq"].contract_ids)  # type: ignore[attr-defined]
    def renew_a_contract(self, pick: int) -> None:
        """A renewal: CPQ's latest lines, a new term; billing's renew extends only the term."""
        cpq = self.systems["cpq"]
        assert isinstance(cpq, CPQ)
        contract = cpq.contract_ids[pick % len(cpq.contract_ids)]
        created = self._commit("cpq", "renew_contract", {"contract_id": contract}, None)
        self._commit("cpq", "approve_quote", {"quote_id": created.body["quote_id"]}, None)
        self.approved.append((created.body["contract_id"], created.body["contract_version"]))

    @rule(pick=st.integers(0, 99))
    @precondition(lambda self: self.parked_workflows)
    def operators_resume(self, pick: int) -> None:
        """The operations team fixed the cause of a parked workflow and resumes it."""
        workflow = sorted(self.parked_workflows)[pick % len(self.parked_workflows)]
        self._resume(workflow)

    @rule()
    def erp_master_data_gap(self) -> None:
        """An item loses its ERP mapping: validations are refused until operators fix it."""
        self.gap = True

    @rule()
    def erp_master_data_fixed(self) -> None:
        """The mapping is back (the gap was a window); what it parked stays parked until
        operators resume it."""
        self.gap = False

    def _resume(self, workflow: str) -> None:
        self.gap = False  # operators fix the master data, then resume
        self.parked_workflows.discard(workflow)
        event = DomainEvent(
            f"OPS-{workflow}-{self.clock}", "operator.resolve", "operations", self.clock,
            {"workflow": workflow}, {"quote": workflow},
        )  # fmt: skip
        self._deliver(event)

    @rule(pick=st.integers(0, 99), twice=st.booleans())
    @precondition(lambda self: self.deliveries)
    def deliver(self, pick: int, twice: bool) -> None:
        """Any pending event, in any order; sometimes it stays pending too (a duplicate)."""
        event = self.deliveries[pick % len(self.deliveries)]
        if not twice:
            self.deliveries.remove(event)
        self._deliver(event)

    @rule(
        pick=st.integers(0, 99),
        fate=st.sampled_from(["apply", "apply", "ghost", "down", "refuse"]),
    )
    @precondition(lambda self: any(not h.done for h in self.handlers))
    def step(self, pick: int, fate: str) -> None:
        live = [h for h in self.handlers if not h.done]
        self._advance(live[pick % len(live)], fate)

    @rule(advance=st.floats(0, 900))
    def time_passes(self, advance: float) -> None:
        self.clock += advance

    @rule()
    def quiet_hours(self) -> None:
        """Nothing fails for a while: every delivery arrives and every handler runs to its end
        (what is parked stays parked), so later rules meet settled contracts."""
        self._settle(resume_parked=False)

    @rule()
    def crash(self) -> None:
        """The orchestrator dies: handlers and memory are gone; the journal stays."""
        for handler in self.handlers:
            if not handler.done:
                handler.waits.close()
                handler.run.interrupted()
        self.handlers, self.locks = [], {}
        self.design = self.design_factory()
        restart = DomainEvent(
            f"RESTART-{self.clock}", "orchestrator.restarted", "orchestrator", self.clock, {}, {}
        )
        self._deliver(restart)

    # -- the driver ---------------------------------------------------------------------

    def _deliver(self, event: DomainEvent) -> None:
        handler = self.design.subscriptions[event.type]
        self._start(event, lambda: handler(self.context, event))

    def _start(self, event: DomainEvent, make: Any) -> None:
        handler = Handler(HandlerRun(self, event, make))
        self.handlers.append(handler)
        self._run(handler)

    def now(self) -> float:
        return self.clock

    def record(self, record: Record) -> None:
        if isinstance(record, WorkflowRecord) and record.status == "parked":
            keys = record.keys
            self.parked.add((str(keys.get("contract")), int(keys.get("contract_version", 0))))
            self.parked_workflows.add(record.workflow)

    def noticed(self, note: Note) -> None:
        if note.policy == "outbox" and note.event == "staged":
            self.staged.add(note.subject)

    def fork(self, event: DomainEvent, steps: Steps, daemon: bool) -> None:
        if not daemon:  # a daemon (CPQ's reconciliation) runs forever
            self._start(event, lambda: steps)

    def release(self, key: str, token: Any) -> None:
        if self.locks.get(key) is token:
            del self.locks[key]

    def _advance(self, handler: Handler, fate: str) -> None:
        effect = handler.pending
        if isinstance(effect, Acquire):
            owner = self.locks.get(effect.key)
            if owner is not None and owner is not handler and not owner.done:
                return  # still blocked
            self.locks[effect.key] = handler
            handler.result = handler  # the lock's token
        elif isinstance(effect, Sleep):
            self.clock += effect.seconds
            handler.result = None
        elif isinstance(effect, Call):
            handler.result = self._call(effect, fate)
        elif isinstance(effect, Publish):
            if fate != "down":  # a ghost: the broker has it, the acknowledgement is lost
                self.published[effect.message_id] = self.published.get(effect.message_id, 0) + 1
            ack = Reply({}) if fate == "apply" else Reply({}, CallError("transient", fate))
            handler.result = ack
        self._run(handler)

    def _call(self, call: Call, fate: str) -> Reply:
        if (fate == "refuse" or self.gap) and call.operation == "validate_order":
            return Reply({}, CallError("business", "ITEM_NOT_MAPPED", "an item has no mapping"))
        if fate == "down":
            return Reply({}, CallError("transient", "SERVICE_UNAVAILABLE"))
        outcome = self._commit(call.system, call.operation, call.payload, call.idem_key)
        if fate == "ghost":
            return Reply({}, CallError("ambiguous", "timeout"))
        if outcome.error is not None:
            return Reply(
                outcome.body, CallError("business", outcome.error.code, outcome.error.message)
            )
        return Reply(outcome.body)

    def _run(self, handler: Handler) -> None:
        """Run until the handler blocks or ends; the interpreter answers the rest at once."""
        while True:
            try:
                effect = handler.waits.send(handler.result)
            except StopIteration:
                handler.done = True
                handler.run.release_all()
                self.locks = {k: h for k, h in self.locks.items() if h is not handler}
                return
            handler.result = None
            handler.pending = effect
            if isinstance(effect, Acquire) and self.locks.get(effect.key) in (None, handler):
                self.locks[effect.key] = handler
                handler.result = handler
                continue
            return

    # -- the invariants ----------------------------------------------------------------

    @invariant()
    def each_effect_once(self) -> None:
        assert all(count == 1 for count in self.effects.values()), self.effects

    def _settle(self, resume_parked: bool) -> None:
        for _ in range(10_000):
            live = [h for h in self.handlers if not h.done]
            if not live and not self.deliveries and resume_parked and self.parked_workflows:
                for workflow in sorted(self.parked_workflows):  # operators work what is left
                    self._resume(workflow)
                continue
            if not live and not self.deliveries:
                return
            if self.deliveries:
                self._deliver(self.deliveries.pop(0))
            for handler in live:
                self._advance(handler, "apply")
        raise AssertionError("the reference never became quiescent")

    def teardown(self) -> None:
        """Quiescence: every event delivered, every handler run to its end, nothing failing."""
        self._settle(resume_parked=True)
        self.each_effect_once()
        latest: dict[str, int] = {}
        for contract, version in self.approved:
            latest[contract] = max(version, latest.get(contract, 0))
        for contract, version in latest.items():
            shown = [
                self.seen_versions.get((s, contract), 0) for s in ("erp", "billing", "support")
            ]
            if (contract, version) not in self.parked:
                assert shown == [version] * 3, (
                    f"{contract}: partial or lost at {shown}, wanted v{version}"
                )
        self._whole_contracts_everywhere()
        unpublished = self.staged - set(self.published)
        assert not unpublished, f"staged in the outbox, never published: {sorted(unpublished)}"
        assert not self.journal.get("outbox"), "the outbox still holds published messages"

    def _whole_contracts_everywhere(self) -> None:
        """Every system holds CPQ's latest approved lines of every contract it holds."""
        cpq, erp, billing = self.systems["cpq"], self.systems["erp"], self.systems["billing"]
        assert isinstance(cpq, CPQ)
        for contract in cpq.contract_ids:
            quote = cpq.latest_quote(contract)
            if quote["status"] != "approved" or quote["quote_type"] == "cancellation":
                continue
            wanted = sorted((line["sku"], int(line["quantity"])) for line in quote["lines"])
            held = {
                "erp": erp.table("contract").get(contract),
                "billing": next(
                    (s for s in billing.table("subscription").values()
                     if s["contract_id"] == contract), None,
                ),
            }  # fmt: skip
            for system, record in held.items():
                if record is None or record["contract_version"] != quote["contract_version"]:
                    continue  # not there at this version: the version checks above judge it
                lines = sorted((line["sku"], int(line["quantity"])) for line in record["lines"])
                assert lines == wanted, f"{system} holds {contract} as {lines}, CPQ {wanted}"


class NaiveUnderChaos(ReferenceUnderChaos):
    design_factory = NaiveConsumer


def test_the_machine_catches_a_design_without_its_guarantees() -> None:
    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            NaiveUnderChaos,
            settings=settings(
                max_examples=60, stateful_step_count=40, deadline=None, report_multiple_bugs=False
            ),
        )


@pytest.mark.parametrize("design", [ReferenceDesign, RenewsOnlyTheTerm])
def test_a_renewal_after_a_parked_amendment_carries_the_whole_contract(design: Any) -> None:
    """The story of swarm seed 108: v2 (an upgrade) parks on an unmapped item, v3 (a renewal of
    CPQ's latest lines) goes through, then operators fix the item and resume v2."""
    machine = type("Machine", (ReferenceUnderChaos,), {"design_factory": design})()
    machine.approve_a_quote(new=True, pick=0)
    machine.quiet_hours()
    machine.erp_master_data_gap()
    machine.approve_a_quote(new=False, pick=0)
    machine.quiet_hours()
    assert machine.parked_workflows == {"Q-000002"}
    machine.erp_master_data_fixed()
    machine.renew_a_contract(pick=0)
    machine.quiet_hours()
    if design is ReferenceDesign:
        machine.teardown()
    else:
        with pytest.raises(AssertionError, match="billing holds CT-000001 as"):
            machine.teardown()


TestReferenceUnderChaos = ReferenceUnderChaos.TestCase
TestReferenceUnderChaos.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
