"""The four vendor SDKs, pointed at `syncline serve --wire vendor` with what tokens.json says.

Each block is what an integration changes to point its SDK at Syncline instead of the vendor:
the base URL (or host), the keys, and the CA that serve's HTTPS on loopback is signed with.
Everything else in this example is plain vendor SDK code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import stripe
from netsuite import Config, NetSuite, TokenAuth
from simple_salesforce.api import Salesforce
from zenpy import Zenpy

from examples.sdk_integration.calls import set_retry_after_aside


@dataclass
class Vendors:
    """The SDK clients, and what the integration needs besides them."""

    stripe: stripe.StripeClient
    salesforce: Salesforce
    zendesk: Zenpy
    netsuite: Any  # netsuite's NetSuiteRestApi
    stripe_webhook_secret: str
    zendesk_webhook_secret: str
    cdc_secret: str  # Salesforce's change events, relayed and signed with Syncline-Signature
    time_scale: float  # scenario seconds per wall second: Retry-After is in scenario seconds
    started_unix: float
    admin_token: str


def connect(tokens: Path) -> Vendors:
    described = json.loads(tokens.read_text(encoding="utf-8"))
    if "vendor" not in described:
        raise SystemExit(f"{tokens}: serve with --wire vendor first (no vendor wire is served)")
    vendor, ca = described["vendor"], described["ca_bundle"]

    # Stripe: the API base and the key.
    billing = vendor["billing"]
    stripe.ca_bundle_path = ca
    billing_client = stripe.StripeClient(
        billing["api_key"], base_addresses={"api": billing["url"]}, max_network_retries=0
    )

    # Salesforce: the instance URL and a session id, over a session that trusts serve's CA.
    cpq, session = vendor["cpq"], requests.Session()
    session.trust_env, session.verify = False, ca  # REQUESTS_CA_BUNDLE would override verify
    salesforce = Salesforce(instance_url=cpq["url"], session_id=cpq["session_id"],
                            session=session, version=cpq["version"])  # fmt: skip

    # Zendesk: zenpy's host override, the CA, and the API token.
    support = vendor["support"]
    os.environ["ZENPY_FORCE_NETLOC"] = support["url"].removeprefix("https://")
    os.environ["REQUESTS_CA_BUNDLE"] = ca
    zendesk = Zenpy(subdomain="syncline", email=support["email"], token=support["api_token"],
                    disable_cache=True)  # fmt: skip
    # zenpy sleeps out a 429 itself, by the wall clock: the integration waits instead.
    zendesk.tickets.session.hooks["response"].append(set_retry_after_aside)

    # NetSuite: the account's token-based authentication, and the REST host.
    erp = vendor["erp"]
    os.environ["SSL_CERT_FILE"] = ca  # httpx, under the netsuite package
    netsuite = NetSuite(Config(account=erp["account"], auth=TokenAuth(**erp["token_auth"])))
    rest = netsuite.rest_api
    rest.hostname = erp["url"].removeprefix("https://")

    return Vendors(
        billing_client, salesforce, zendesk, rest, billing["webhook_secret"],
        support["webhook_secret"], described["signing_secret"], float(described["time_scale"]),
        float(described["started_unix"]), described["admin_token"],
    )  # fmt: skip
