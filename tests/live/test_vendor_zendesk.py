"""Support on Zendesk's wire, driven by zenpy itself, pointed at serve by its netloc."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Organization, Ticket
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException

from simulators.vendors.zendesk import verify
from tests.live.vendor_world import VendorWorld, vendor_world

LIMITED = (
    "systems.support.rate_limits=[{fixed_window: 15, per: 1m, status: 429, "
    "code: Too Many Requests, retry_after: computed}]"
)


def client(world: VendorWorld, monkeypatch: pytest.MonkeyPatch, **options: object) -> Zenpy:
    support = world.vendor("support")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", support["url"].removeprefix("https://"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", world.ca)
    return Zenpy(subdomain="syncline", email=support["email"], token=support["api_token"],
                 disable_cache=True,
                 **options)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VendorWorld]:
    """One world for this file's tests, on Zendesk's own numbers (the seed scenario's support is
    ServiceNow-like: no idempotency keys, an admin's rate rule)."""
    zendesk = ("systems.support.preset=zendesk-like", "systems.support.rate_limits=[]")
    with vendor_world(tmp_path_factory.mktemp("zendesk"), *zendesk, wire="support") as served:
        yield served


def created_cases(world: VendorWorld) -> int:
    return sum(1 for r in world.history() if r["kind"] == "state" and r["entity"] == "case"
               and r["change"] == "created")  # fmt: skip


def test_zenpy_reads_pages_and_writes_entitlements_and_tickets(
    world: VendorWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    zenpy = client(world, monkeypatch)
    cases_before = created_cases(world)
    organizations = list(zenpy.organizations())  # cursor pages of 100, followed by zenpy
    assert len(organizations) > 100
    assert len({o.id for o in organizations}) == len(organizations)
    first = organizations[0]
    updated = zenpy.organizations.update(Organization(id=first.id, organization_fields={
        "contract_id": "CT-Z1", "contract_version": 1, "support_level": "premium",
        "valid_from": "2026-01-01T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z",
    }))  # fmt: skip
    assert updated.organization_fields["support_level"] == "premium"
    shown = zenpy.organizations(id=first.id)
    assert shown.organization_fields["contract_id"] == "CT-Z1"
    created = zenpy.tickets.create(Ticket(subject="Printer offline", organization_id=first.id,
                                          priority="high"))  # fmt: skip
    ticket = created.ticket
    assert ticket.priority == "high" and ticket.status == "new"
    assert zenpy.tickets(id=ticket.id).subject == "Printer offline"
    ticket.tags = ["escalated"]
    escalated = zenpy.tickets.update(ticket)
    assert escalated.ticket.status == "open" and "escalated" in escalated.ticket.tags
    # Zendesk honours an Idempotency-Key on ticket creation: the same ticket, once.
    zenpy.tickets.session.headers["Idempotency-Key"] = "printer-2"
    twice = [zenpy.tickets.create(Ticket(subject="Printer jams", organization_id=first.id))
             for _ in range(2)]  # fmt: skip
    del zenpy.tickets.session.headers["Idempotency-Key"]
    assert twice[0].ticket.id == twice[1].ticket.id
    user = zenpy.users(id=ticket.requester_id)
    assert user.organization_id == first.id
    with pytest.raises(RecordNotFoundException):
        zenpy.tickets(id=999999)
    with pytest.raises(APIException) as refused:  # a business refusal: an unknown level
        zenpy.organizations.update(
            Organization(
                id=first.id,
                organization_fields={
                    "contract_id": "CT-Z1",
                    "contract_version": 2,
                    "support_level": "platinum",
                },
            )
        )
    assert refused.value.response.status_code == 422
    assert "INVALID_LEVEL" in refused.value.response.text
    world.fault("support", "maintenance", "start")
    with pytest.raises(requests.exceptions.RetryError):  # zenpy retries 503s three times
        zenpy.tickets(id=ticket.id)
    refusals = [r for r in world.history() if r["kind"] == "call" and r["type"] == "fail"
                and r.get("cause") == "maintenance"]  # fmt: skip
    assert len(refusals) == 4
    world.fault("support", "maintenance", "stop")
    world.fault("support", "ghost_writes", "start", probability=1.0)
    with pytest.raises(APIException) as lost:
        zenpy.tickets.create(Ticket(subject="Lost answer", organization_id=first.id))
    assert lost.value.response.status_code == 504
    world.fault("support", "ghost_writes", "stop", probability=1.0)
    # Three: the first ticket, the idempotent retry's one, and the ghost write's.
    assert created_cases(world) - cases_before == 3
    entitlements = [r for r in world.history() if r["kind"] == "state"
                    and r["entity"] == "entitlement"]  # fmt: skip
    assert [(r["keys"]["contract"], r["version"]) for r in entitlements] == [("CT-Z1", 1)]


def test_zendesk_429_with_retry_after_reaches_zenpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with vendor_world(tmp_path, LIMITED, wire="support", time_scale="30") as world:
        zenpy = client(world, monkeypatch, ratelimit_budget=1)  # no waiting: tell us
        with pytest.raises(RatelimitBudgetExceeded):
            for _ in range(40):
                zenpy.users(id=1_000_001)
        told = [r for r in world.history() if r["kind"] == "call" and r.get("retry_after")]
        assert told and told[0]["error_code"] == "Too Many Requests"


def test_zendesk_webhooks_are_signed_as_zendesk_signs_them(
    world: VendorWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    zenpy = client(world, monkeypatch)
    created = zenpy.tickets.create(Ticket(subject="Down", organization_id=1, priority="low"))
    zenpy.tickets.update(Ticket(id=created.ticket.id, priority="urgent"))
    subject = f"zen:ticket:{created.ticket.id}"
    path, headers, body = world.receiver.naming(subject)[0]
    assert path == "/webhooks/support"
    secret = world.vendor("support")["webhook_secret"]
    signature = headers["X-Zendesk-Webhook-Signature"]
    timestamp = headers["X-Zendesk-Webhook-Signature-Timestamp"]
    assert verify(secret, body, signature, timestamp)
    assert not verify(secret, body + b" ", signature, timestamp)
    event = json.loads(body)
    assert event["subject"] == subject
    assert event["type"] == "zen:event-type:ticket.priority_changed"
