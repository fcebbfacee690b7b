"""The reference orchestrator: the governed integration layer other designs are held against.

Flow (seed document, "a better architecture"):
1. `quote.approved` -> a canonical quote -> validated against ERP master data before any write.
   A business error, or a payload that cannot be mapped, parks the workflow with its reason;
   nothing downstream is touched.
2. The ERP sales order, the ERP contract at the quote's version, then billing (create, amend,
   renew or cancel the subscription).
3. Support's entitlement follows billing: on `subscription.activated` / `.amended`, or from the
   quote itself if that callout has not come within `entitlement_grace`.

A business without CPQ (`systems.cpq: null`: a web shop sells straight into billing, and there
is no ERP) starts from billing's subscription events instead: each contract version is a
workflow that brings support to it. Without an ERP, the ERP steps and the ledger postings are
left out.

Guarantees, and how:
- Effect-once. Every delivery passes the inbox (event ids for 72 h, journaled). Every write
  carries an idempotency key derived from business IDs, and every write that creates a record
  (ERP's sales orders and journal entries, support's entitlement) confirms an ambiguous answer
  by reading back before anything is sent again: some vendors ignore keys (SAP-like ERPs,
  support desks), and keys expire.
- The whole contract everywhere. A version carries the whole contract to every system; a
  renewal that follows a version billing never got (parked, skipped) first brings billing's
  lines to the contract's, since a renewal alone only extends the term.
- No stale overwrite. Work on one contract is serialised; a quote older than the version
  already written is superseded, a billing event older than support's version is ignored, and
  both are recorded.
- Nothing lost. Transient and ambiguous failures are retried with backoff and jitter; a circuit
  breaker per system parks work while the system is failing; the entitlement does not hang on
  one webhook; the journal survives a crash and unfinished workflows resume at restart. CPQ's
  change events can be lost in transit (Salesforce: "rarely a queued publish is lost"), so a
  reconciliation reads CPQ's change stream every `reconcile_every` (it is kept 72 h) and starts
  the workflow of every approval the inbox never saw.
- Managed exceptions. Business errors and unmappable payloads park the workflow with the
  reason and code, in the journal and the history; a technical failure that outlasts the retry
  budget dead-letters it with the original message and the failure. Operators answer with
  `operator.resolve` (resume), `operator.replay`, `operator.skip` or `operator.compensate`
  (undo what the workflow committed in ERP, then close it); see harness/sim/operations.py.
- Published once committed. When a contract version is in ERP, billing and support alike,
  `contract.synced` is staged in the outbox in the same step and relayed to the broker.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from functools import cached_property
from typing import Any

from harness.designs import canonical, ledger
from harness.designs.api import Context, HandlerFn
from harness.effects import Call, Effect, Reply
from harness.engine.breaker import CircuitBreaker, breaker
from harness.engine.exceptions import EXCEPTIONAL, ExceptionQueue, exception_queue
from harness.engine.inbox import Inbox, inbox
from harness.engine.outbox import Outbox, outbox
from harness.engine.retry import Confirm, RetryPolicy, call_with_retry, retry
from simulators.base import DomainEvent
from simulators.billing import SUBSCRIPTION_EVENTS

Steps = Generator[Effect, Any, None]
Keys = Mapping[str, str | int]

#: Workflow states a restart resumes.
OPEN = ("started", "billing_updated")
#: What the orchestrator announces when a contract version is everywhere.
SYNCED = "contract.synced"
#: Quote types whose effect a later version does not carry: new business creates the
#: subscription with its term; a renewal extends the term and is invoiced for its year.
CARRIED_BY_NO_LATER_VERSION = ("new", "renewal")
#: How operators close work for good (a skip, a compensation).
CLOSED_BY_PEOPLE = ("skipped", "compensated")
#: The retry policy of every call, unless a scenario changes some of it.
DEFAULT_RETRY: Mapping[str, Any] = {
    "initial": 1.0, "coefficient": 2.0, "max_interval": 300.0, "max_attempts": 100,
}  # fmt: skip
#: Approvals younger than this are left to their webhook: it may still be on its way.
RECONCILE_AFTER_S = 600.0


class ReferenceDesign:
    """The orchestrator the harness holds other designs against; also a library to build a
    variant of it from, without touching private methods.

    Options (keyword arguments; the scenario's `designs: {reference: {...}}` passes them too):
    `policy` the retry policy of every call (a scenario gives the fields it changes:
    `policy: {max_attempts: 8}`); `breaker` a factory of each system's circuit
    breaker; `read_back` whether a lost answer to a create is confirmed by reading back;
    `entitlement_grace` how long support waits for billing's callout before the quote itself
    entitles; `reconcile_every` how often CPQ's change stream is replayed (None: never);
    `erp_routes` region -> ERP during a migration; `deduplicate`, `idempotency_keys` and
    `guard_versions` switch off one guarantee each (tests break them to prove the checkers).

    Hooks (public methods a subclass overrides; each documented where it is defined):
    `write_downstream` the write order (validate, ERP order, ERP contract, billing);
    `entitle` how support is brought to a contract version; `call` every vendor call (retry,
    breaker, read-back); `park_if_failed` what parks and what dead-letters; `compensate` and
    `bring_billing_lines` the repair steps.
    """

    name = "reference"
    #: The change stream the reconciliation replays: CPQ's approvals, or billing's subscription
    #: changes where the business has no CPQ.
    polls = ("cpq", "billing")

    def __init__(
        self,
        policy: RetryPolicy | Mapping[str, Any] | None = None,
        *,
        deduplicate: bool = True,
        idempotency_keys: bool = True,
        guard_versions: bool = True,
        entitlement_grace: float = 300.0,
        erp_routes: Mapping[str, str] | None = None,
        reconcile_every: float | None = 900.0,
        read_back: bool = True,
        breaker: Callable[[], CircuitBreaker] | None = None,
    ) -> None:
        # The switches exist so tests can break one guarantee at a time and watch a checker
        # catch it; the shipped design keeps them all on.
        # ~100 attempts is about eight hours of failures while the breaker lets calls through;
        # parking while it is open costs no attempt. Then the work goes to the dead letters.
        if not isinstance(policy, RetryPolicy):
            policy = retry(**{**DEFAULT_RETRY, **(policy or {})})
        self.policy = policy
        self.deduplicate = deduplicate
        self.idempotency_keys = idempotency_keys
        self.guard_versions = guard_versions
        # During an ERP migration: which ERP serves a region (the rest stay on "erp").
        self.erp_routes = dict(erp_routes or {})
        self.entitlement_grace = entitlement_grace
        self.reconcile_every = reconcile_every
        self.read_back = read_back
        make_breaker = breaker or _default_breaker
        self.breakers: dict[str, CircuitBreaker] = {
            system: make_breaker()
            for system in ("erp", "billing", "support", *sorted(set(self.erp_routes.values())))
        }
        self.outbox: Outbox = outbox()
        self.exceptions: ExceptionQueue = exception_queue()
        # Caches of the journal, lost in a crash and rebuilt by `_recover`.
        self.inbox: Inbox = inbox()
        self.contracts: dict[str, dict[str, int]] = {}  # written / entitled / subscribed
        self.awaiting: dict[str, dict[int, str]] = {}  # contract -> version -> workflow
        self.behind: dict[str, list[str]] = {}  # set-aside workflow -> the versions behind it
        self._recovered = False

    @cached_property  # looked up for every delivery
    def subscriptions(self) -> Mapping[str, HandlerFn]:
        return {
            "orchestrator.started": self.on_start,
            "quote.approved": self.on_quote_approved,
            **dict.fromkeys(SUBSCRIPTION_EVENTS, self.on_billing_changed),
            "orchestrator.restarted": self.on_restart,
            "operator.resolve": self.on_operator_resume,
            "operator.replay": self.on_operator_resume,
            "operator.skip": self.on_operator_skip,
            "operator.compensate": self.on_operator_compensate,
            **dict.fromkeys(ledger.LEDGER_EVENTS, self.on_billing_document),
        }

    # -- handlers ----------------------------------------------------------------------

    def on_quote_approved(self, ctx: Context, event: DomainEvent) -> Steps:
        yield from self._recover(ctx)
        if not (yield from self._first_delivery(ctx, event)):
            return
        saved = _saved(event)
        try:
            quote = canonical.quote(event)
        except canonical.MappingError as error:
            workflow = str(event.keys.get("quote", event.event_id))
            yield ctx.store("workflow", workflow, {"status": "started", "event": saved})
            yield from self.exceptions.park(
                workflow, "MAPPING_ERROR", f"mapping: {error}", event.keys
            )
            return
        erp = self._erp(quote.region)
        journal = {
            "status": "started",
            "contract": quote.contract_id,
            "version": quote.contract_version,
            "erp": erp,
            "event": saved,
        }
        yield ctx.store("workflow", quote.quote_id, journal)
        if self.erp_routes:  # where this customer's ledger postings go
            yield ctx.store("customer_erp", quote.customer_id, erp)
        yield ctx.status(quote.quote_id, "started", keys=self._keys(quote))
        yield from self._workflow(ctx, quote)

    def on_billing_changed(self, ctx: Context, event: DomainEvent) -> Steps:
        yield from self._recover(ctx)
        if not (yield from self._first_delivery(ctx, event)):
            return
        if "cpq" not in ctx.systems:  # billing's change is where the business's work starts
            yield from self._subscription_workflow(ctx, event)
            return
        try:
            subscription = canonical.subscription(event)
        except canonical.MappingError as error:
            # The quote's own fallback still brings support up to date; record why we could not.
            yield ctx.note("exceptions", event.event_id, "unmapped", {"reason": str(error)})
            return
        yield from self.entitle(ctx, subscription.entitlement(), "callout")

    def _subscription_workflow(
        self, ctx: Context, event: DomainEvent, uncertain: bool = False
    ) -> Steps:
        """Without CPQ (and so without ERP): a contract version billing announced, brought to
        support; parked, with its reason, where that fails for good."""
        contract, version = str(event.keys["contract"]), int(event.keys["contract_version"])
        workflow = f"{contract}:v{version}"
        keys: dict[str, str | int] = {"contract": contract, "contract_version": version}
        journal = {"status": "started", "kind": "subscription", "contract": contract,
                   "version": version, "event": _saved(event)}  # fmt: skip
        yield ctx.store("workflow", workflow, journal)
        yield ctx.status(workflow, "started", keys=keys)
        try:
            subscription = canonical.subscription(event)
        except canonical.MappingError as error:
            yield from self.exceptions.park(workflow, "MAPPING_ERROR", f"mapping: {error}", keys)
            return
        self.awaiting.setdefault(contract, {})[version] = workflow
        yield from self.entitle(ctx, subscription.entitlement(), "callout", uncertain)
        yield from self._settle(ctx, contract)

    def on_billing_document(self, ctx: Context, event: DomainEvent) -> Steps:
        """An invoice, payment or reversal billing announced: post it to ERP's ledger (a
        business without an ERP keeps no ledger here)."""
        if "erp" not in ctx.systems:
            return
        yield from self._recover(ctx)
        if not (yield from self._first_delivery(ctx, event)):
            return
        workflow = f"post:{event.event_id}"
        journal = {"status": "started", "kind": "posting", "event": _saved(event)}
        yield ctx.store("workflow", workflow, journal)
        yield ctx.status(workflow, "started", keys=dict(event.keys))
        yield from self._post(ctx, workflow, event)

    def _post(
        self, ctx: Context, workflow: str, event: DomainEvent, uncertain: bool = False
    ) -> Steps:
        try:
            posting = ledger.posting_for(event)
        except canonical.MappingError as error:
            yield from self.exceptions.park(
                workflow, "MAPPING_ERROR", f"mapping: {error}", event.keys
            )
            return
        erp = "erp"
        if self.erp_routes:
            erp = (yield ctx.load("customer_erp", str(posting.request.get("customer_id")))) or erp
        posted = Confirm(
            Call(erp, "find_journal_entries", posting.lookup),
            lambda reply: bool(reply.body.get("journal_entry_ids")),
        )
        reply = yield from self.call(
            ctx, erp, posting.operation, posting.request, posting.idem_key, posted, uncertain
        )
        if (yield from self.park_if_failed(ctx, reply, workflow, posting.keys, "ERP ledger")):
            return
        yield from self._close(ctx, workflow, "completed", posting.keys)

    def on_start(self, ctx: Context, event: DomainEvent) -> Steps:
        if self.reconcile_every is not None:  # None: trust the webhooks alone
            source = "cpq" if "cpq" in ctx.systems else "billing"
            yield ctx.fork(self._reconcile(ctx, source), f"reconcile:{source}", daemon=True)

    def on_restart(self, ctx: Context, event: DomainEvent) -> Steps:
        """Recover from the journal and resume every unfinished workflow."""
        yield from self._recover(ctx)
        for workflow, journal in (yield ctx.scan("workflow")):
            if journal["status"] in OPEN:
                yield ctx.note("journal", workflow, "resumed", {"status": journal["status"]})
                yield ctx.fork(self._resume(ctx, journal), f"resume:{workflow}")
        yield ctx.fork(self.outbox.relay_all(ctx.rng), "outbox:relay")
        yield from self.on_start(ctx, event)

    def _reconcile(self, ctx: Context, source: str) -> Steps:
        """Every `reconcile_every`: read the source's changes (CPQ's approvals, or billing's
        subscription changes without CPQ) after the journal's cursor, and start the workflow
        of each the inbox never saw (its webhook was lost)."""
        assert self.reconcile_every is not None
        while True:
            yield ctx.sleep(self.reconcile_every)
            yield from self._recover(ctx)
            while (yield from self._reconcile_page(ctx, source)):
                pass

    def _reconcile_page(self, ctx: Context, source: str) -> Generator[Effect, Any, bool]:
        """One page of the source's changes; True if there may be more to read now."""
        now = yield ctx.now()
        cursor = int((yield ctx.load("cursor", source)) or 0)
        limit = 500
        types = ["quote.approved"] if source == "cpq" else list(SUBSCRIPTION_EVENTS)
        page = yield from self.call(
            ctx, source, "list_changes", {"cursor": cursor, "types": types, "limit": limit}
        )
        changes = page.body.get("changes") if page.ok else None
        if not isinstance(changes, list):  # CPQ is not answering (or keeps no stream): next time
            return False
        oldest = int(page.body.get("oldest", 0))
        if cursor < oldest:  # events expired before we read them (down for days): ask CPQ
            until = changes[0]["occurred_at"] if changes else now - RECONCILE_AFTER_S
            if source == "cpq" and not (yield from self._reconcile_gap(ctx, until)):
                return False
            if source != "cpq":  # billing has no query for them: say what was not replayed
                yield ctx.note("reconciliation", source, "gap_not_replayed", {"until": until})
            cursor = oldest
        more = len(changes) == limit
        for change in changes:
            if change["occurred_at"] > now - RECONCILE_AFTER_S:
                more = False  # its webhook may still come: the cursor stays before it
                break
            cursor = int(change["position"]) + 1
            yield ctx.store("cursor_time", source, change["occurred_at"])
            if change["event_id"] in self.inbox:
                continue
            event = DomainEvent(
                change["event_id"], change["type"], source, change["occurred_at"],
                change["payload"], change["keys"],
            )  # fmt: skip
            yield ctx.note("reconciliation", event.event_id, "recovered", event.keys)
            handler = self.on_quote_approved if source == "cpq" else self.on_billing_changed
            yield ctx.fork(handler(ctx, event), event.event_id)
        else:
            cursor = max(cursor, int(page.body["cursor"]))
        yield ctx.store("cursor", source, cursor)
        return more

    def on_operator_resume(self, ctx: Context, event: DomainEvent) -> Steps:
        """Operators fixed the cause (or the system is back): run the workflow again."""
        yield from self._recover(ctx)
        workflow = str(event.payload["workflow"])
        journal = yield from self.exceptions.take(workflow, event.type)
        if journal is None:
            return
        yield ctx.store("workflow", workflow, {**journal, "status": "started"})
        yield ctx.status(workflow, "resumed", keys=dict(journal["event"]["keys"]))
        try:
            yield from self._resume(ctx, journal)
        except canonical.MappingError as error:
            yield from self.exceptions.park(workflow, "MAPPING_ERROR", f"mapping: {error}", {})

    def on_operator_skip(self, ctx: Context, event: DomainEvent) -> Steps:
        """Operators decided the work is not to be done: close it, with their reason."""
        yield from self._recover(ctx)
        workflow = str(event.payload["workflow"])
        journal = yield from self.exceptions.take(workflow, event.type)
        if journal is None:
            return
        reason = f"skipped by operations ({journal.get('reason', 'no reason recorded')})"
        yield from self._close(ctx, workflow, "skipped", dict(journal["event"]["keys"]), reason)

    def on_operator_compensate(self, ctx: Context, event: DomainEvent) -> Steps:
        """Operators decided the work is not to be done: undo what it committed, then close it.

        Only ERP's steps can be undone (cancel the order, put the contract back). If billing
        already holds the version, undoing it is a credit decision, not a compensation: the
        workflow stays an exception, with that reason.
        """
        yield from self._recover(ctx)
        workflow = str(event.payload["workflow"])
        journal = yield from self.exceptions.take(workflow, event.type)
        if journal is None:
            return
        keys = dict(journal["event"]["keys"])
        if "contract" not in journal or journal.get("kind") in ("posting", "subscription"):
            # An unmappable quote wrote nothing; a ledger posting and (without CPQ) support's
            # entitlement are single steps.
            reason = "compensated by operations: nothing had been committed"
            yield ctx.note("compensation", workflow, "compensated", {"undone": []})
            yield from self._close(ctx, workflow, "compensated", keys, reason)
            return
        contract, version = str(journal["contract"]), int(journal["version"])
        yield ctx.acquire(f"contract:{contract}")
        billed = yield from self.call(ctx, "billing", "get_subscription", {"contract_id": contract})
        if billed.ok and int(billed.body.get("contract_version", 0)) == version:
            reason = (
                f"billing already holds contract {contract} v{version}: undoing it needs a credit "
                "decision, not a compensation"
            )
            yield from self.exceptions.park(workflow, "COMPENSATION_REFUSED", reason, keys)
            return
        if billed.error is not None and billed.error.code != "SUBSCRIPTION_NOT_FOUND":
            reason = f"compensation failed: billing lookup: {billed.error.code}"
            yield from self.exceptions.park(workflow, "COMPENSATION_FAILED", reason, keys)
            return
        epoch, erp = int(journal.get("epoch", 0)), str(journal.get("erp", "erp"))
        if erp not in ctx.systems:
            reason = "compensated by operations: billing does not hold it, and there is no ERP"
            yield ctx.note("compensation", workflow, "compensated", {"undone": []})
            yield from self._close(ctx, workflow, "compensated", keys, reason)
            return
        undone = yield from self._undo_erp(ctx, erp, workflow, contract, version, epoch, keys)
        if undone is None:
            return
        reason = (
            f"compensated by operations: orders {undone['orders']} cancelled, ERP contract "
            f"at v{undone['contract_back_to']}"
        )
        yield from self._close(ctx, workflow, "compensated", keys, reason)

    # -- the workflow ------------------------------------------------------------------

    def _resume(self, ctx: Context, journal: Mapping[str, Any]) -> Steps:
        saved = journal["event"]
        event = DomainEvent(
            saved["event_id"], saved["type"], saved["system"], saved["occurred_at"],
            saved["payload"], saved["keys"],
        )  # fmt: skip
        # A resumed workflow may have sent its next write before the crash or the failure that
        # stopped it: where a vendor may ignore keys, look before writing again.
        if journal.get("kind") == "posting":
            yield from self._post(ctx, f"post:{event.event_id}", event, uncertain=True)
        elif journal.get("kind") == "subscription":
            yield from self._subscription_workflow(ctx, event, uncertain=True)
        else:
            yield from self._workflow(ctx, canonical.quote(event), uncertain=True)

    def _workflow(self, ctx: Context, quote: canonical.Quote, uncertain: bool = False) -> Steps:
        contract, version, workflow = quote.contract_id, quote.contract_version, quote.quote_id
        keys = self._keys(quote)
        if self.guard_versions:
            yield ctx.acquire(f"contract:{contract}")
        state = self._contract(contract)
        # A newer version already claimed in ERP counts, even if its billing step has not run
        # (parked, crashed, or its ERP answer lost).
        newest = max(state["written"], state.get("erp", 0))
        if self.guard_versions and newest > version:
            reason = f"contract {contract} is already at v{newest}"
            yield from self._close(ctx, workflow, "superseded", keys, reason)
            return
        needs_writing = state["written"] < version or not self.guard_versions
        if self.guard_versions and not (yield from self._earlier_versions(ctx, quote, state, keys)):
            return
        if needs_writing and not (
            yield from self.write_downstream(ctx, quote, state, keys, uncertain)
        ):
            return
        if self.guard_versions:
            yield ctx.release(f"contract:{contract}")
        if self.contracts[contract]["entitled"] >= version:
            yield from self._settle(ctx, contract)
            return
        # Support should follow billing's callout; if it has not within the grace period,
        # the quote has everything the entitlement needs.
        yield ctx.sleep(self.entitlement_grace)
        yield from self.entitle(ctx, quote.entitlement(), "fallback", uncertain)

    def _earlier_versions(
        self, ctx: Context, quote: canonical.Quote, state: dict[str, int], keys: Keys
    ) -> Generator[Effect, Any, bool]:
        """Write first the contract's earlier versions a later one does not carry: new business
        (the subscription, with its own term) and renewals (each extends the term and is
        invoiced for its year). An amendment carries every line, so skipping one loses nothing.
        They are found in CPQ: approved, newer than what ERP and billing hold, older than this
        version. False if one could not be written, or operators hold one that must come first
        (a renewal, or a new contract a renewal needs): this version then waits behind it
        (`_wait_for`). A held new contract with no renewal after it is carried by this version,
        which creates the subscription with its own lines."""
        contract, version = quote.contract_id, quote.contract_version
        floor = max(state["written"], state.get("erp", 0))
        if version <= floor + 1 or "cpq" not in ctx.systems:
            return True
        where = {"contract_id": contract, "status": "approved"}
        found = yield from self.call(
            ctx, "cpq", "find_records", {"entity": "quote", "where": where, "limit": 1000}
        )
        if (yield from self.park_if_failed(ctx, found, quote.quote_id, keys, "CPQ lookup")):
            return False
        earlier = sorted(
            (int(record["contract_version"]), record) for record in found.body.get("records", ())
            if floor < int(record["contract_version"]) < version
            and record.get("quote_type") in CARRIED_BY_NO_LATER_VERSION
        )  # fmt: skip
        renewing = quote.quote_type == "renewal" or any(
            record.get("quote_type") == "renewal" for _, record in earlier
        )
        for earlier_version, record in earlier:
            event = quote_event(record, f"CPQ-QUERY-{record['quote_id']}")
            skipped = canonical.quote(event)
            if (yield ctx.load("closed", skipped.quote_id)) is not None:
                continue  # operators skipped or compensated it: theirs to decide, not ours
            journal = yield ctx.load("workflow", skipped.quote_id)
            if journal is None:  # never started here (its event lost): journaled, so it resumes
                journal = {"status": "started", "contract": contract, "version": earlier_version,
                           "erp": self._erp(skipped.region), "event": _saved(event)}  # fmt: skip
                yield ctx.store("workflow", skipped.quote_id, journal)
            if journal.get("status") in EXCEPTIONAL and not renewing:
                continue  # a held new contract: this version creates the subscription instead
            if journal.get("status") in EXCEPTIONAL:  # a renewal set aside: operators act first
                # This version's own refusal, if ERP has one, is what operators must hear of.
                erp = self._erp(quote.region)
                if erp in ctx.systems:
                    checked = yield from self.call(
                        ctx, erp, "validate_order", quote.order().request()
                    )
                    step = "ERP validation"
                    if (yield from self.park_if_failed(ctx, checked, quote.quote_id, keys, step)):
                        return False
                yield from self._wait_for(ctx, quote, skipped, keys)
                return False
            if (yield from self.write_downstream(ctx, skipped, state, self._keys(skipped), True)):
                details = {"version": earlier_version, "before": version}
                yield ctx.note("versions", contract, "earlier_version_written", details)
                continue
            yield from self._wait_for(ctx, quote, skipped, keys)
            return False
        return True

    def _wait_for(
        self, ctx: Context, quote: canonical.Quote, earlier: canonical.Quote, keys: Keys
    ) -> Steps:
        """Hold `quote` behind the earlier version operators hold, not as an exception of its
        own: it goes on when that version's workflow ends (`_close`), as one piece of work."""
        behind = self.behind.setdefault(earlier.quote_id, [])
        if quote.quote_id not in behind:
            behind.append(quote.quote_id)
            yield ctx.store("behind", earlier.quote_id, list(behind))
        yield from self.exceptions.update(quote.quote_id, {"status": "waiting"})
        reason = f"waits for v{earlier.contract_version} ({earlier.quote_id}), set aside"
        yield ctx.status(quote.quote_id, "waiting", reason, keys)

    def _wake(self, ctx: Context, workflow: str) -> Steps:
        """Go on with the versions that waited for `workflow`, now that it has ended."""
        behind = self.behind.pop(workflow, None)
        if not behind:
            return
        yield ctx.store("behind", workflow, None)
        # Newest first: it writes the renewals between (`_earlier_versions`); the older ones
        # then find it written and are superseded, instead of each being written in turn.
        for waiting in reversed(behind):
            journal = yield ctx.load("workflow", waiting)
            if journal is None or journal.get("status") != "waiting":
                continue
            yield ctx.store("workflow", waiting, {**journal, "status": "started"})
            yield ctx.status(waiting, "resumed", keys=dict(journal["event"]["keys"]))
            yield ctx.fork(self._resume(ctx, journal), f"resume:{waiting}")

    def write_downstream(
        self,
        ctx: Context,
        quote: canonical.Quote,
        state: dict[str, int],
        keys: Keys,
        uncertain: bool = False,
    ) -> Generator[Effect, Any, bool]:
        """Validate, then ERP order and contract, then billing; False if the workflow parked.

        The hook for the write order: a variant overrides it, composing `call` (every vendor
        call) and `park_if_failed` (stop a step that failed for good)."""
        workflow, contract, version = quote.quote_id, quote.contract_id, quote.contract_version
        journal = yield ctx.load("workflow", workflow)
        epoch = int(journal.get("epoch", 0)) if journal else 0
        again = f":{epoch}" if epoch else ""  # a fresh key for a retry after compensation
        order = quote.order().request()
        erp = self._erp(quote.region)
        if erp in ctx.systems and not (
            yield from self._write_erp(ctx, quote, order, state, keys, again, uncertain)
        ):
            return False
        if not state["subscribed"] and self.idempotency_keys:
            # An earlier version's create may have landed unanswered (dead-lettered, replayed
            # past its key's retention): a subscription is looked up before one is created.
            found = yield from self.call(
                ctx, "billing", "get_subscription", {"contract_id": contract}
            )
            if found.ok:
                state["subscribed"] = 1
                yield ctx.note("versions", contract, "subscription_found", {"version": version})
            elif found.error is not None and found.error.code != "SUBSCRIPTION_NOT_FOUND":
                yield from self.park_if_failed(ctx, found, workflow, keys, "billing lookup")
                return False
        operation = (
            canonical.BILLING_OPERATIONS[quote.quote_type]
            if state["subscribed"]
            else "create_subscription"
        )
        if operation == "renew_subscription" and state["written"] < version - 1:
            # An earlier version never reached billing: its lines must, before the new term.
            lines = yield from self.bring_billing_lines(ctx, order, again)
            if lines.error is not None and lines.error.kind == "business":
                yield from self.compensate(ctx, quote, lines, keys, epoch)
                return False
            if (yield from self.park_if_failed(ctx, lines, workflow, keys, "billing")):
                return False
        billed = yield from self.call(
            ctx, "billing", operation, order, f"{contract}:v{version}:billing{again}"
        )
        if billed.error is not None and billed.error.kind == "business":
            # ERP already holds the order and the contract version billing refuses for good.
            yield from self.compensate(ctx, quote, billed, keys, epoch)
            return False
        if (yield from self.park_if_failed(ctx, billed, workflow, keys, "billing")):
            return False
        state.update(written=max(version, state["written"]), subscribed=1)
        yield ctx.store("contract", contract, dict(state))
        yield from self.exceptions.update(workflow, {"status": "billing_updated"})
        self.awaiting.setdefault(contract, {})[version] = workflow
        yield ctx.status(workflow, "billing_updated", keys=keys)
        return True

    def _write_erp(
        self,
        ctx: Context,
        quote: canonical.Quote,
        order: Mapping[str, Any],
        state: dict[str, int],
        keys: Keys,
        again: str,
        uncertain: bool,
    ) -> Generator[Effect, Any, bool]:
        """Validate, the ERP sales order, the ERP contract; False if the workflow parked."""
        workflow, contract, version = quote.quote_id, quote.contract_id, quote.contract_version
        erp = self._erp(quote.region)
        checked = yield from self.call(ctx, erp, "validate_order", order)
        if (yield from self.park_if_failed(ctx, checked, workflow, keys, "ERP validation")):
            return False
        created = yield from self.call(
            ctx, erp, "create_sales_order", order, f"{workflow}:erp-order{again}",
            Confirm(
                Call(erp, "find_sales_orders", {"quote_id": workflow}),
                lambda reply: bool(reply.body.get("order_ids")),
                lambda reply: Reply({"order_id": reply.body["order_ids"][-1]}),
            ) if self.read_back else None,
            uncertain,
        )  # fmt: skip
        if (yield from self.park_if_failed(ctx, created, workflow, keys, "ERP sales order")):
            return False
        # Claimed before the write: if its answer is lost (a ghost write, a crash), an older
        # version must still not be written over it.
        state["erp"] = max(version, state.get("erp", 0))
        yield ctx.store("contract", contract, dict(state))
        stored = yield from self.call(
            ctx, erp, "upsert_contract", quote.contract().request(created.body["order_id"]),
            f"{contract}:v{version}:erp-contract{again}",
        )  # fmt: skip
        return not (yield from self.park_if_failed(ctx, stored, workflow, keys, "ERP contract"))

    def _reconcile_gap(self, ctx: Context, until: float) -> Generator[Effect, Any, bool]:
        """Approvals between the last change read and `until` that the stream no longer holds:
        found by querying CPQ; each one ERP has no order for and the journal no workflow for is
        started from the quote record. False if CPQ or ERP did not answer (try again later)."""
        since = float((yield ctx.load("cursor_time", "cpq")) or 0.0)
        found = yield from self.call(
            ctx, "cpq", "find_approved_quotes", {"after": since, "before": until, "limit": 5000}
        )
        if not found.ok:
            return False
        for quote_id in found.body["quotes"]:
            if (yield ctx.load("workflow", quote_id)) is not None:
                continue
            record = yield from self.call(ctx, "cpq", "get_quote", {"quote_id": quote_id})
            if not record.ok:
                return False
            quote = record.body
            erp = self._erp(str(quote.get("region", "")))
            if erp in ctx.systems:  # without an ERP, the journal alone says what ran
                orders = yield from self.call(ctx, erp, "find_sales_orders", {"quote_id": quote_id})
                if not orders.ok:
                    return False
                if orders.body["order_ids"]:
                    continue  # its workflow ran
            event = quote_event(quote, f"CPQ-QUERY-{quote_id}")
            yield ctx.note("reconciliation", event.event_id, "recovered_by_query", event.keys)
            yield ctx.fork(self.on_quote_approved(ctx, event), event.event_id)
        yield ctx.store("cursor_time", "cpq", until)
        return True

    def bring_billing_lines(
        self, ctx: Context, order: Mapping[str, Any], again: str
    ) -> Generator[Effect, Any, Reply]:
        """Billing's lines made the contract's (an amendment at this version), before a renewal
        that follows a version billing never got: a renewal alone only extends the term."""
        key = f"{order['contract_id']}:v{order['contract_version']}:billing-lines{again}"
        return (yield from self.call(ctx, "billing", "amend_subscription", order, key))

    def compensate(
        self,
        ctx: Context,
        quote: canonical.Quote,
        refusal: Reply,
        keys: Keys,
        epoch: int,
    ) -> Steps:
        """Undo ERP's committed steps, idempotently, then park with billing's reason."""
        workflow, contract, version = quote.quote_id, quote.contract_id, quote.contract_version
        assert refusal.error is not None
        erp = self._erp(quote.region)
        if erp not in ctx.systems:  # no ERP: nothing was committed before billing refused
            reason = f"billing: {refusal.error.code}: {refusal.error.message}"
            yield from self.exceptions.park(workflow, refusal.error.code, reason, keys)
            return
        undone = yield from self._undo_erp(ctx, erp, workflow, contract, version, epoch, keys)
        yield from self.exceptions.update(workflow, {"epoch": epoch + 1})
        if undone is None:
            return
        reason = (
            f"billing: {refusal.error.code}: {refusal.error.message} (compensated: orders "
            f"{undone['orders']} cancelled, ERP contract back to v{undone['contract_back_to']})"
        )
        yield from self.exceptions.park(workflow, refusal.error.code, reason, keys)

    def _undo_erp(
        self,
        ctx: Context,
        erp: str,
        workflow: str,
        contract: str,
        version: int,
        epoch: int,
        keys: Keys,
    ) -> Generator[Effect, Any, dict[str, Any] | None]:
        """Compensate: cancel the quote's open ERP orders, put ERP's contract back from `version`.

        Orders are found by the quote, not remembered, so an order whose answer was lost (a
        ghost write) is cancelled too. Each step is idempotent: undoing twice changes nothing.
        Returns what was undone (also noted in the history); if a step fails, the workflow is
        parked as COMPENSATION_FAILED and None is returned.
        """
        undone = yield from self._undo_steps(ctx, erp, workflow, contract, version, epoch)
        if isinstance(undone, Reply):
            assert undone.error is not None
            reason = f"compensation failed: {undone.error.code}: {undone.error.message}"
            yield from self.exceptions.park(workflow, "COMPENSATION_FAILED", reason, keys)
            return None
        yield ctx.note("compensation", workflow, "compensated", undone)
        return undone

    def _undo_steps(
        self, ctx: Context, erp: str, workflow: str, contract: str, version: int, epoch: int
    ) -> Generator[Effect, Any, dict[str, Any] | Reply]:
        found = yield from self.call(ctx, erp, "find_sales_orders", {"quote_id": workflow})
        if found.error is not None:
            return found
        orders = [str(order) for order in found.body["order_ids"]]
        for order in orders:
            cancelled = yield from self.call(
                ctx, erp, "cancel_sales_order", {"order_id": order}, f"{order}:cancel"
            )
            if cancelled.error is not None:
                return cancelled
        reverted = yield from self.call(
            ctx, erp, "revert_contract", {"contract_id": contract, "from_version": version},
            f"{contract}:v{version}:{epoch}:revert",
        )  # fmt: skip
        if reverted.error is None:
            back_to = reverted.body.get("contract_version")
        elif reverted.error.code == "RCRD_DSNT_EXIST":  # ERP never had the contract
            back_to = 0
        else:
            return reverted
        state = self._contract(contract)
        state["erp"] = int(back_to or 0)  # what ERP holds now
        yield ctx.store("contract", contract, dict(state))
        return {"orders": orders, "contract_back_to": back_to}

    def entitle(
        self,
        ctx: Context,
        entitlement: canonical.Entitlement,
        source: str,
        uncertain: bool = False,
    ) -> Steps:
        """Bring support to the entitlement's contract version, once, whichever path is first
        (`source`: "callout", billing's event, or "fallback", the quote after the grace)."""
        contract, version = entitlement.contract_id, entitlement.contract_version
        if self.guard_versions:
            yield ctx.acquire(f"entitlement:{contract}")
        state = self._contract(contract)
        if self.guard_versions and state["entitled"] >= version:
            if state["entitled"] > version and source == "callout":
                details = {"version": version, "support_has": state["entitled"]}
                yield ctx.note("versions", contract, "stale_event_ignored", details)
            return
        confirm = None
        if self.idempotency_keys and self.read_back:  # keys may be ignored: read back first
            read = Call("support", "get_entitlement", {"contract_id": contract})
            confirm = Confirm(read, lambda reply: _shows(reply, entitlement))
        reply = yield from self.call(
            ctx, "support", "upsert_entitlement", entitlement.request(),
            f"{contract}:v{version}:support", confirm, uncertain,
        )  # fmt: skip
        if reply.error is not None:
            for workflow in self.awaiting.get(contract, {}).values():
                yield from self.park_if_failed(
                    ctx, reply, workflow, {"contract": contract}, "support"
                )
            return
        state["entitled"] = max(version, state["entitled"])
        yield ctx.store("contract", contract, dict(state))
        yield from self._settle(ctx, contract)

    def _settle(self, ctx: Context, contract: str) -> Steps:
        """Complete the workflows support now covers (older versions are superseded)."""
        entitled = self.contracts[contract]["entitled"]
        waiting = self.awaiting.get(contract, {})
        for version in sorted(v for v in waiting if v <= entitled):
            workflow = waiting.pop(version)
            status = "completed" if version == entitled else "superseded"
            keys: dict[str, str | int] = {
                "quote": workflow, "contract": contract, "contract_version": version,
            }  # fmt: skip
            yield from self._close(ctx, workflow, status, keys)
            if status == "completed":  # same step as the close: both survive a crash, or neither
                message_id = f"{SYNCED}:{contract}:v{version}"
                payload = {
                    "contract_id": contract,
                    "contract_version": version,
                    "quote_id": workflow,
                }
                yield from self.outbox.stage(SYNCED, message_id, payload, keys)
                yield ctx.fork(self.outbox.relay(message_id, ctx.rng), f"outbox:{message_id}")
        if not waiting:
            self.awaiting.pop(contract, None)

    # -- journal, inbox and exceptions -------------------------------------------------

    def _recover(self, ctx: Context) -> Steps:
        """Rebuild the caches from the journal, once per life of this design object."""
        if self._recovered:
            return
        yield ctx.acquire("journal")
        if not self._recovered:
            for event_id, seen_at in (yield ctx.scan("inbox")):
                self.inbox.remember(event_id, seen_at)
            for contract, state in (yield ctx.scan("contract")):
                self.contracts[contract] = dict(state)
            for workflow, waiting in (yield ctx.scan("behind")):
                self.behind[workflow] = list(waiting)
            for workflow, journal in (yield ctx.scan("workflow")):
                if journal["status"] == "billing_updated":
                    waiting = self.awaiting.setdefault(journal["contract"], {})
                    waiting[int(journal["version"])] = workflow
            self._recovered = True
        yield ctx.release("journal")

    def _first_delivery(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, bool]:
        if not self.deduplicate:
            return True
        now = yield ctx.now()
        for forgotten in self.inbox.forget_expired(now):
            yield ctx.store("inbox", forgotten, None)
        if not self.inbox.accept(event.event_id, now):
            return False
        yield ctx.store("inbox", event.event_id, now)
        return True

    def _erp(self, region: str) -> str:
        return self.erp_routes.get(region, "erp")

    def _contract(self, contract: str) -> dict[str, int]:
        return self.contracts.setdefault(
            contract, {"written": 0, "erp": 0, "entitled": 0, "subscribed": 0}
        )

    def call(
        self,
        ctx: Context,
        system: str,
        operation: str,
        payload: Mapping[str, Any],
        idem_key: str | None = None,
        confirm: Confirm | None = None,
        look_first: bool = False,
    ) -> Generator[Effect, Any, Reply]:
        """Every vendor call: retried by `policy` behind the system's breaker; with `confirm`,
        an ambiguous answer is checked by reading back, and with `look_first` the read comes
        before the first attempt too (a resumed write). The hook for how calls are made."""
        breaker = self.breakers.get(system)
        if confirm is not None and look_first:
            found = yield from call_with_retry(confirm.read, self.policy, ctx.rng, breaker)
            if found.ok and confirm.applied(found):
                yield ctx.note("confirm", system, "already_applied", {"operation": operation})
                return confirm.answer(found) if confirm.answer else Reply(found.body)
        call = Call(system, operation, payload, idem_key if self.idempotency_keys else None)
        return (yield from call_with_retry(call, self.policy, ctx.rng, breaker, confirm))

    def park_if_failed(
        self, ctx: Context, reply: Reply, workflow: str, keys: Keys, step: str
    ) -> Generator[Effect, Any, bool]:
        """Park (business error) or dead-letter (retries spent) a step that failed for good;
        True if it did. The hook for what parks: the exception queue operators work from."""
        error = reply.error
        if error is None:
            return False
        reason = f"{step}: {error.code}: {error.message}"
        if error.kind == "business":
            yield from self.exceptions.park(workflow, error.code, reason, keys)
        else:
            yield from self.exceptions.dead_letter(workflow, step, error.code, reason, keys)
        return True

    def _close(
        self, ctx: Context, workflow: str, status: str, keys: Keys, reason: str | None = None
    ) -> Steps:
        yield ctx.store("workflow", workflow, None)  # finished: nothing left to resume
        if status in CLOSED_BY_PEOPLE:  # remembered: a later version must not write it again
            yield ctx.store("closed", workflow, status)
        yield ctx.status(workflow, status, reason, keys)
        if workflow in self.behind:
            yield from self._wake(ctx, workflow)

    @staticmethod
    def _keys(quote: canonical.Quote) -> dict[str, str | int]:
        return {
            "quote": quote.quote_id,
            "contract": quote.contract_id,
            "contract_version": quote.contract_version,
        }


def quote_event(quote: Mapping[str, Any], event_id: str) -> DomainEvent:
    """A CPQ quote record (a query's answer) as the `quote.approved` event it was."""
    fields = {key: quote.get(key) for key in canonical.QUOTE_EVENT_FIELDS}
    keys: dict[str, str | int] = {
        "quote": str(quote["quote_id"]), "contract": str(quote["contract_id"]),
        "contract_version": int(quote["contract_version"]),
        "customer": str(quote["customer_id"]),
    }  # fmt: skip
    return DomainEvent(
        event_id, "quote.approved", "cpq", float(quote["approved_at"]),
        {"schema_version": 1, **fields, "lines": quote["lines"]}, keys,
    )  # fmt: skip


def _default_breaker() -> CircuitBreaker:
    return breaker(window=20, failure_rate=0.5, minimum_calls=10, open_for=60.0)


def _shows(reply: Reply, entitlement: canonical.Entitlement) -> bool:
    """Whether support's record, read back, is the entitlement we wrote."""
    try:
        return canonical.held_entitlement(reply.body) == entitlement
    except canonical.MappingError:
        return False


def _saved(event: DomainEvent) -> dict[str, Any]:
    """An event as the journal keeps it, to map and resume it after a restart."""
    return {
        "event_id": event.event_id, "type": event.type, "system": event.system,
        "occurred_at": event.occurred_at, "payload": dict(event.payload),
        "keys": dict(event.keys),
    }  # fmt: skip
