"""The integration's HTTP side: the vendors' webhooks in, its health and parked work out."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

import stripe
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from examples.sdk_integration.integration import Integration

log = logging.getLogger("sdk_integration")
SWEEP_S = 5.0  # wall seconds between sweeps for approvals whose change event never came


def signed(secret: str, header: str | None, body: bytes, tolerance_s: float = 300) -> bool:
    """The relay's `t=<unix>,v1=<HMAC-SHA256 of "t.body">` over the bytes that came."""
    try:
        fields = dict(part.split("=", 1) for part in (header or "").split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


def create_app(integration: Integration) -> FastAPI:
    vendors = integration.vendors

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await integration.load_reference_data()

        async def sweeping() -> None:
            while True:
                await asyncio.sleep(SWEEP_S)
                try:
                    await integration.sweep()
                except Exception:
                    log.exception("sweep")

        sweeper = asyncio.create_task(sweeping())
        yield
        sweeper.cancel()

    app = FastAPI(title="Example integration on the vendors' SDKs", lifespan=lifespan)

    @app.post("/webhooks/cpq")
    async def cpq(request: Request) -> Response:
        raw = await request.body()
        if not signed(vendors.cdc_secret, request.headers.get("syncline-signature"), raw):
            return JSONResponse({"error": "bad signature"}, 401)
        try:
            payload = json.loads(raw)["data"]["payload"]
            contract_id = str(payload["SBQQ__MasterContract__c"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "not a quote change event"}, 400)
        integration.contract_changed(contract_id)
        return JSONResponse({"accepted": True}, 202)

    @app.post("/webhooks/billing")
    async def billing(request: Request) -> Response:
        raw = await request.body()
        try:
            event = stripe.Webhook.construct_event(
                raw, request.headers.get("stripe-signature", ""), vendors.stripe_webhook_secret
            )
        except stripe.SignatureVerificationError:
            return JSONResponse({"error": "bad signature"}, 401)
        except ValueError:
            return JSONResponse({"error": "not an event"}, 400)
        integration.document_announced(event)
        return JSONResponse({"received": True})

    @app.post("/webhooks/support")
    async def support(request: Request) -> Response:
        raw = await request.body()
        timestamp = request.headers.get("x-zendesk-webhook-signature-timestamp", "")
        digest = hmac.new(vendors.zendesk_webhook_secret.encode(), timestamp.encode() + raw,
                          hashlib.sha256).digest()  # fmt: skip
        import base64  # noqa: PLC0415

        given = request.headers.get("x-zendesk-webhook-signature", "")
        if not hmac.compare_digest(base64.b64encode(digest).decode(), given):
            return JSONResponse({"error": "bad signature"}, 401)
        return JSONResponse({"received": True})  # escalations: nothing to do in this flow

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "up", "in_flight": integration.in_flight}

    def admin(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {vendors.admin_token}"

    @app.get("/exceptions")
    async def exceptions(request: Request) -> Response:
        if not admin(request):
            return JSONResponse({"error": "the admin token is needed"}, 401)
        listed = []
        for parked in integration.parked.values():
            entry = asdict(parked)
            entry.pop("event")
            entry.pop("contract")
            listed.append({**entry, "status": "parked"})
        return JSONResponse(listed)

    @app.post("/exceptions/{workflow}/{action}")
    async def act(workflow: str, action: str, request: Request) -> Response:
        if not admin(request):
            return JSONResponse({"error": "the admin token is needed"}, 401)
        if action not in ("resolve", "replay", "skip", "compensate"):
            return JSONResponse({"error": "resolve, replay, skip or compensate"}, 400)
        if not integration.act(workflow, action):
            return JSONResponse({"error": f"{workflow} is not parked"}, 404)
        return JSONResponse({"workflow": workflow, "action": action}, 202)

    return app
