"""Batch ESB: scheduled jobs poll each system for changes and push them downstream in batches.

The legacy middleware the seed document describes ("batch-oriented ERP synchronization") that
many estates still run: three interfaces, each a job run every `interval` hours, on the clock:

    quotes        CPQ's approved quotes  -> ERP sales order and contract, billing subscription
    entitlements  billing's subscriptions -> support entitlements     (half an interval later)
    ledger        billing's documents     -> ERP ledger postings       (half an interval later)

A job reads the changes after its cursor (`list_changes`, a page at a time) and handles each in
order, upserting by external id (business-id idempotency keys). A record that fails goes to the
job's error file with its reason and is retried at the start of the next run, before new
changes, so an old record can land after a newer one. The cursor is saved after each page; a
crash mid-page handles that page again. Webhooks are not used at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

from harness.designs import canonical, ledger
from harness.designs.api import Context, HandlerFn
from harness.designs.steps import book_in_erp
from harness.effects import Effect, Reply
from harness.engine.retry import RetryPolicy, retry
from harness.units import parse_duration
from simulators.base import DomainEvent
from simulators.billing import SUBSCRIPTION_EVENTS

Steps = Generator[Effect, Any, None]
#: Handles one change; returns None when done, or the reason it went to the error file.
Work = Callable[[Context, DomainEvent], Generator[Effect, Any, str | None]]


class BatchESB:
    name = "batch-esb"
    polls = ("cpq", "billing")

    def __init__(self, interval: float | str = "4h", page_size: int = 500) -> None:
        self.interval = parse_duration(interval)
        if self.interval <= 0 or page_size < 1:
            raise ValueError("interval must be positive and page_size at least 1")
        self.page_size = page_size
        self.policy: RetryPolicy = retry(initial=10.0, coefficient=2.0, max_interval=60.0,
                                         max_attempts=3)  # fmt: skip
        half = self.interval / 2
        self.jobs: dict[str, tuple[str, tuple[str, ...], float, Work]] = {
            "quotes": ("cpq", ("quote.approved",), 0.0, self._quote),
            "entitlements": ("billing", SUBSCRIPTION_EVENTS, half, self._entitle),
            "ledger": ("billing", ledger.LEDGER_EVENTS, half, self._post),
        }  # fmt: skip

    @property
    def subscriptions(self) -> Mapping[str, HandlerFn]:
        return {"orchestrator.started": self.on_start, "orchestrator.restarted": self.on_start}

    def on_start(self, ctx: Context, event: DomainEvent) -> Steps:
        """The scheduler comes up: every job runs on its own clock from now on."""
        for job in self.jobs:
            yield ctx.fork(self._schedule(ctx, job), f"esb:{job}")

    # -- the scheduler and one run of a job -------------------------------------------

    def _schedule(self, ctx: Context, job: str) -> Steps:
        offset = self.jobs[job][2]
        while True:
            now = yield ctx.now()
            runs = math.floor((now - offset) / self.interval) + 1
            yield ctx.sleep(offset + runs * self.interval - now)
            yield from self._run(ctx, job)

    def _run(self, ctx: Context, job: str) -> Steps:
        system, types, _, work = self.jobs[job]
        yield ctx.note("esb", job, "run_started")
        errors_file = f"error_file:{job}"
        for record_id, entry in (yield ctx.scan(errors_file)):  # last run's errors first
            event = _event(entry["event"])
            reason = yield from work(ctx, event)
            if reason is None:
                yield ctx.store(errors_file, record_id, None)
                yield ctx.note("esb", record_id, "error_cleared", {"job": job})
            else:
                yield ctx.store(errors_file, record_id, {**entry, "reason": reason})
        cursor = int((yield ctx.load("cursor", job)) or 0)
        handled = failed = 0
        while True:
            page = yield from ctx.call_with_retry(
                self.policy, system, "list_changes",
                {"cursor": cursor, "types": list(types), "limit": self.page_size},
            )  # fmt: skip
            if not page.ok:  # the source is not answering: try again next run
                yield ctx.note("esb", job, "run_failed", {"cursor": cursor})
                return
            for change in page.body["changes"]:
                event = DomainEvent(
                    change["event_id"], change["type"], system, 0.0, change["payload"], {}
                )
                reason = yield from work(ctx, event)
                handled += 1
                if reason is not None:
                    failed += 1
                    entry = {"event": _saved(event), "reason": reason}
                    yield ctx.store(errors_file, event.event_id, entry)
                    yield ctx.note(
                        "esb", event.event_id, "error_file", {"job": job, "reason": reason}
                    )
            cursor = int(page.body["cursor"])
            yield ctx.store("cursor", job, cursor)
            if len(page.body["changes"]) < self.page_size:
                break
        yield ctx.note("esb", job, "run_ended", {"handled": handled, "error_file": failed})

    # -- the three interfaces --------------------------------------------------------

    def _quote(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, str | None]:
        try:
            quote = canonical.quote(event)
        except canonical.MappingError as error:
            return f"mapping: {error}"
        keys: dict[str, str | int] = {
            "quote": quote.quote_id, "contract": quote.contract_id,
            "contract_version": quote.contract_version,
        }  # fmt: skip
        booked = yield from book_in_erp(ctx, self.policy, quote)
        if not booked.ok:
            return (yield from self._error(ctx, quote.quote_id, booked, keys))
        order = quote.order().request()
        found = yield from ctx.call_with_retry(
            self.policy, "billing", "get_subscription", {"contract_id": quote.contract_id}
        )
        if found.error is not None and found.error.code != "SUBSCRIPTION_NOT_FOUND":
            return (yield from self._error(ctx, quote.quote_id, found, keys))
        operation = (
            canonical.BILLING_OPERATIONS[quote.quote_type] if found.ok else "create_subscription"
        )
        billed = yield from ctx.call_with_retry(
            self.policy, "billing", operation, order,
            f"{quote.contract_id}:v{quote.contract_version}:billing",
        )  # fmt: skip
        if not billed.ok:
            return (yield from self._error(ctx, quote.quote_id, billed, keys))
        yield ctx.status(quote.quote_id, "completed", keys=keys)
        return None

    def _entitle(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, str | None]:
        try:
            entitlement = canonical.subscription(event).entitlement()
        except canonical.MappingError as error:
            return f"mapping: {error}"
        key = f"{entitlement.contract_id}:v{entitlement.contract_version}:support"
        reply = yield from ctx.call_with_retry(
            self.policy, "support", "upsert_entitlement", entitlement.request(), key
        )
        return None if reply.ok else _reason(reply)

    def _post(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, str | None]:
        try:
            posting = ledger.posting_for(event)
        except canonical.MappingError as error:
            return f"mapping: {error}"
        reply = yield from ctx.call_with_retry(
            self.policy, "erp", posting.operation, posting.request, posting.idem_key
        )
        return None if reply.ok else _reason(reply)

    def _error(
        self, ctx: Context, quote: str, reply: Reply, keys: Mapping[str, str | int]
    ) -> Generator[Effect, Any, str]:
        """Into the error file; a business error is also announced to operations."""
        assert reply.error is not None
        reason = _reason(reply)
        if reply.error.kind == "business":
            details = {"code": reply.error.code, "reason": reason}
            yield ctx.note("exceptions", quote, "parked", details)
        yield ctx.status(quote, "parked", f"error file: {reason}", keys)
        return reason


def _reason(reply: Reply) -> str:
    assert reply.error is not None
    return f"{reply.error.code}: {reply.error.message}"


def _saved(event: DomainEvent) -> dict[str, Any]:
    return {"event_id": event.event_id, "type": event.type, "system": event.system,
            "payload": dict(event.payload)}  # fmt: skip


def _event(saved: Mapping[str, Any]) -> DomainEvent:
    return DomainEvent(saved["event_id"], saved["type"], saved["system"], 0.0, saved["payload"], {})
