"""OAuth 1.0a signatures (RFC 5849) as NetSuite's token-based authentication checks them.

A request carries `Authorization: OAuth realm="<account>", oauth_consumer_key=...,
oauth_token=..., oauth_signature_method="HMAC-SHA256", oauth_timestamp=..., oauth_nonce=...,
oauth_version="1.0", oauth_signature=...` (and `oauth_body_hash` when a client signs a JSON
body). The signature is HMAC-SHA256, keyed `consumer_secret&token_secret`, of the base string
`METHOD&url&parameters` (RFC 5849 section 3.4.1): the query's and the header's parameters but
the signature and realm, percent-encoded, sorted and joined.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote

#: How far a request's timestamp may be from the server's clock (NetSuite: 5 minutes).
TOLERANCE_S = 300


def encode(value: str) -> str:
    """RFC 3986 percent-encoding, as RFC 5849 section 3.6 asks."""
    return quote(value, safe="~")


def header_parameters(header: str) -> dict[str, str] | None:
    """The parameters of an `Authorization: OAuth ...` header, or None if it is not one."""
    if not header.startswith("OAuth "):
        return None
    found: dict[str, str] = {}
    for part in header[6:].split(","):
        name, equals, value = part.strip().partition("=")
        if not equals or len(value) < 2 or value[0] != '"' or value[-1] != '"':
            return None
        found[unquote(name)] = unquote(value[1:-1])
    return found


def base_string(method: str, url: str, parameters: Iterable[tuple[str, str]]) -> str:
    pairs = sorted((encode(name), encode(value)) for name, value in parameters)
    normalized = "&".join(f"{name}={value}" for name, value in pairs)
    return "&".join((method.upper(), encode(url), encode(normalized)))


def signature(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{encode(consumer_secret)}&{encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


def sign_header(
    method: str, url: str, query: str, realm: str, consumer: tuple[str, str],
    token: tuple[str, str], timestamp: int, nonce: str,
) -> str:  # fmt: skip
    """An `Authorization` header for a request (what a client sends), HMAC-SHA256."""
    oauth = {
        "oauth_consumer_key": consumer[0], "oauth_token": token[0],
        "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": str(timestamp),
        "oauth_nonce": nonce, "oauth_version": "1.0",
    }  # fmt: skip
    base = base_string(method, url, [*parse_qsl(query, keep_blank_values=True), *oauth.items()])
    oauth["oauth_signature"] = signature(base, consumer[1], token[1])
    fields = ", ".join(f'{name}="{encode(value)}"' for name, value in oauth.items())
    return f'OAuth realm="{realm}", {fields}'


def verified(
    method: str, url: str, query: str, header: str, realm: str, consumer: tuple[str, str],
    token: tuple[str, str], now: float,
) -> str | None:  # fmt: skip
    """Why the request's signature is not good (None: it is)."""
    parameters = header_parameters(header)
    if parameters is None:
        return "no OAuth authorization header"
    if parameters.get("realm") != realm:
        return "the realm is not the account"
    if parameters.get("oauth_consumer_key") != consumer[0]:
        return "unknown consumer key"
    if parameters.get("oauth_token") != token[0]:
        return "unknown token"
    if parameters.get("oauth_signature_method") != "HMAC-SHA256":
        return "the signature method must be HMAC-SHA256"
    timestamp = parameters.get("oauth_timestamp", "")
    if not timestamp.isdigit() or abs(int(timestamp) - now) > TOLERANCE_S:
        return "the timestamp is missing or too far from now"
    given = parameters.get("oauth_signature", "")
    signed = [(name, value) for name, value in parameters.items()
              if name not in ("oauth_signature", "realm")]  # fmt: skip
    base = base_string(method, url, [*parse_qsl(query, keep_blank_values=True), *signed])
    if not hmac.compare_digest(signature(base, consumer[1], token[1]), given):
        return "the signature does not match"
    return None


def body_hash_matches(header: str, body: bytes) -> bool:
    """A signed `oauth_body_hash` (base64 SHA-1 of the body) matches the body that came."""
    parameters = header_parameters(header) or {}
    claimed = parameters.get("oauth_body_hash")
    if claimed is None:
        return True
    return hmac.compare_digest(base64.b64encode(hashlib.sha1(body).digest()).decode(), claimed)
