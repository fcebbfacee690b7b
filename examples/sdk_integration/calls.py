"""Calling the vendors safely: what each SDK raises, sorted into the three kinds of failure.

- business: the vendor refused (a 4xx that is not a rate limit); retrying cannot help, so the
  work is parked for people;
- transient: rate limits, maintenance, outages, conflicts, connection errors; wait (the
  vendor's Retry-After, if it gave one) and try again;
- ambiguous: no answer (a timeout, a 504); the write may have happened, so it is tried again
  only with the same idempotency key (every write here has one, or is an upsert).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import requests
import stripe
from simple_salesforce.exceptions import SalesforceError
from zenpy.lib.exception import APIException

T = TypeVar("T")
log = logging.getLogger("sdk_integration")


class BusinessRefusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class Transient(Exception):
    """A failure worth waiting out: how long the vendor asked for, in its seconds."""

    why: str
    retry_after: float | None = None


class NetSuiteError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code}: {response.text[:200]}")
        self.response = response


def classify(error: Exception) -> Exception:
    """A BusinessRefusal or a Transient for what an SDK raised (others are bugs: re-raised)."""
    if isinstance(error, stripe.StripeError):
        status = error.http_status
        if status is None or status in (409, 429) or status >= 500:
            return Transient(f"stripe {status}", _after(error.headers))
        json_body = error.json_body if isinstance(error.json_body, dict) else {}
        body = json_body.get("error", {})
        return BusinessRefusal(str(body.get("code") or status), str(body.get("message", "")))
    if isinstance(error, SalesforceError):
        content: list[dict[str, Any]] = error.content if isinstance(error.content, list) else []
        code = str(content[0].get("errorCode", error.status)) if content else str(error.status)
        if error.status >= 500 or code == "REQUEST_LIMIT_EXCEEDED":
            return Transient(f"salesforce {error.status}")  # Salesforce gives no Retry-After
        return BusinessRefusal(code, str(content[0].get("message", "")) if content else "")
    if isinstance(error, APIException):
        response = error.response
        if response is None or response.status_code in (409, 429) or response.status_code >= 500:
            headers = response.headers if response is not None else None
            return Transient(f"zendesk {getattr(response, 'status_code', '?')}", _after(headers))
        return BusinessRefusal(str(response.status_code), response.text[:300])
    if isinstance(error, NetSuiteError):
        response = error.response
        if response.status_code in (409, 429) or response.status_code >= 500:
            return Transient(f"netsuite {response.status_code}", _after(response.headers))
        try:
            detail = response.json()["o:errorDetails"][0]
            return BusinessRefusal(str(detail["o:errorCode"]), str(detail["detail"]))
        except (ValueError, KeyError, IndexError, TypeError):
            return BusinessRefusal(str(response.status_code), response.text[:300])
    if isinstance(error, requests.RequestException | httpx.HTTPError | OSError):
        return Transient(f"{type(error).__name__}")
    return error


#: Where a Retry-After is kept from an SDK that would sleep it out by the wall clock (zenpy).
SET_ASIDE = "X-Retry-After-Set-Aside"


def set_retry_after_aside(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A requests response hook: zenpy sleeps out a 429's Retry-After itself, in wall seconds,
    which in a time-scaled world is far too long; this moves it where only `Caller` reads it."""
    if response.status_code == 429 and "Retry-After" in response.headers:
        response.headers[SET_ASIDE] = response.headers.pop("Retry-After")
    return response


def _after(headers: Any) -> float | None:
    try:
        value = None if headers is None else headers.get("Retry-After", headers.get(SET_ASIDE))
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class Caller:
    """Runs a vendor call until it answers or is refused, waiting as the vendor asks."""

    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self.waiting = 0  # calls waiting to try again, for /healthz

    async def __call__(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        backoff = 1.0
        while True:
            try:
                return await call()
            except Exception as raised:
                found = classify(raised)
                if not isinstance(found, Transient):
                    raise found from raised
                # Waits count the vendor's seconds (Retry-After, and our own backoff from 1 s to
                # a minute); the world runs time_scale times faster than the wall clock.
                wait = (found.retry_after or backoff) / self.time_scale
                log.info("%s: %s, again in %.3fs", what, found.why, wait)
                self.waiting += 1
                try:
                    await asyncio.sleep(wait)
                finally:
                    self.waiting -= 1
                backoff = min(backoff * 2, 60.0)

    async def sync(self, call: Callable[[], T], what: str) -> T:
        """A blocking SDK call, in a worker thread."""
        return await self(lambda: asyncio.to_thread(call), what)


async def netsuite(api: Any, method: str, path: str, **options: Any) -> httpx.Response:
    """A NetSuite REST call that raises NetSuiteError for anything but 2xx (the package's own
    error hides the headers, Retry-After among them)."""
    response: httpx.Response = await api.request(method, path, **options)
    if not 200 <= response.status_code < 300:
        raise NetSuiteError(response)
    return response
