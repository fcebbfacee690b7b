"""Schemathesis against each vendor wire facade's OpenAPI description, positive and negative:
whatever is sent on a vendor's wire, the facade answers without a server error (5xx other than
the profile's own 503 / 504). Vendors are lenient where Syncline's own API is strict (a form
carries only text; unknown fields are ignored), so a case that breaks the description may be
taken, as the vendor would take it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from schemathesis import GenerationMode

from simulators.vendors import facade_for
from simulators.vendors.facade import Scope, vendor_app
from simulators.vendors.netsuite import NetSuiteERP
from simulators.vendors.oauth1 import sign_header
from tests.simulators.test_http_schema import MODES, probe_all, quiet_services


class Signed:
    """Signs each request as NetSuite's token-based authentication wants (OAuth 1.0a)."""

    def __init__(self, app: Any, facade: NetSuiteERP) -> None:
        self.app, self.facade = app, facade

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"testserver").decode()
            header = sign_header(
                scope["method"], f"http://{host}{scope['path']}",
                scope.get("query_string", b"").decode(), self.facade.account,
                self.facade.consumer, self.facade.access, int(time.time()), "n",
            )  # fmt: skip
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", header.encode())]}
        await self.app(scope, receive, send)


def authorization(facade: Any) -> dict[str, str]:
    credentials = facade.credentials()
    if facade.vendor == "stripe":
        return {"Authorization": f"Bearer {credentials['api_key']}"}
    if facade.vendor == "salesforce":
        return {"Authorization": f"Bearer {credentials['session_id']}"}
    if facade.vendor == "zendesk":
        return {"Authorization": f"Bearer {credentials['oauth_token']}"}
    return {}


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: mode.value)
@pytest.mark.parametrize("system", ["cpq", "erp", "billing", "support"])
def test_no_server_errors_on_the_vendor_wire(
    system: str, mode: GenerationMode, tmp_path: Path
) -> None:
    built = quiet_services(tmp_path / "live")
    facade = facade_for(system, built.live[system], built.signing_secret)
    assert facade is not None
    app: Any = vendor_app(facade)
    if isinstance(facade, NetSuiteERP):
        facade.live.clock.unix = lambda: int(time.time())  # type: ignore[method-assign]
        signed = Signed(app, facade)
        signed.openapi = app.openapi  # type: ignore[attr-defined]
        app = signed
    seen = probe_all(app, authorization(facade), mode, strict=False)
    assert built.history is not None
    built.history.close()
    assert sum(seen.values()) > 20 and set(seen) - {401}, seen  # past the credentials check
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= status < 300 for status in seen), seen
