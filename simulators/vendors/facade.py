"""What every vendor wire facade shares: the call into the system, credentials, forms, the app.

A facade translates; it holds no business state and decides nothing a system decides. Rules:

1. One vendor request is one call of one domain operation through `LiveSystem.serve`, so the
   profile (latency, outages, maintenance, rate limits, ghost writes, lost requests) applies to
   it once and the history records it exactly as a request on Syncline's own API.
2. To translate a vendor id into the domain's (a Stripe subscription into its contract), a
   facade reads the system's records directly (`records`); that read is not a call.
3. Every answer is the vendor's: its status codes, its error body, its pagination, its
   `Retry-After`. A request the facade cannot translate (an unknown parameter shape, an id it
   never issued) is refused in the vendor's error shape before anything is called.
4. Webhooks are the vendor's events, signed as the vendor signs them, delivered by the same
   `LiveSystem` plan (delays, retries, duplicates, reordering, loss).
5. Credentials are derived from the system's bearer token and the services' signing secret,
   so `serve --resume` gives every SDK the same keys again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import Response

from simulators.base import DomainEvent
from simulators.http import Answer, LiveSystem
from simulators.wire import Limited, Limits, Malformed, TooLarge, check, decode, read_body

Scope = dict[str, Any]
#: A route's handler: the request and its path parameters, to the vendor's answer.
Handler = Callable[..., Awaitable[Response]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Refusal(Exception):
    """A request the vendor refuses (rule 3): `response` is the vendor's answer to it."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        raise NotImplementedError


def refused(answer: Answer) -> tuple[int, str, str, dict[str, str]]:
    """A refusal's status, code, message and headers (Syncline's own answer, to translate)."""
    status, body, headers = answer
    error = body.get("error", {})
    return status, str(error.get("code", status)), str(error.get("message", "")), headers


def derive(secret: str, label: str, length: int = 32) -> str:
    """A credential made from `secret`: the same for the same secret and label."""
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).hexdigest()[:length]


class Facade:
    """One system on one vendor's wire. Subclasses add `routes`, `authorized`, `denied` and
    `webhook`."""

    vendor: ClassVar[str] = "vendor"
    #: The paths anyone may read without credentials (the OpenAPI description).
    public: ClassVar[frozenset[str]] = frozenset({"/openapi.json", "/docs"})
    #: Whether the vendor sends webhooks of its own (its events replace Syncline's).
    sends_webhooks: ClassVar[bool] = True

    def __init__(self, live: LiveSystem, secret: str) -> None:
        self.live = live
        self.secret = secret  # the services' signing secret: credentials derive from it

    @property
    def token(self) -> str:
        return self.live.token

    def credentials(self) -> dict[str, Any]:
        """What an SDK needs besides the URL, as `tokens.json` gives it."""
        raise NotImplementedError

    def authorized(self, scope: Scope) -> bool:
        raise NotImplementedError

    def denied(self) -> Response:
        """The vendor's answer to a request without valid credentials."""
        raise NotImplementedError

    def routes(self, app: FastAPI) -> None:
        raise NotImplementedError

    def webhook(self, event: DomainEvent, delivery: int, unix: int) -> tuple[bytes, dict[str, str]]:
        raise NotImplementedError

    def refusal(self, answer: Answer) -> Refusal:
        """The system's or its profile's refusal (`answer`), as the vendor words it."""
        raise NotImplementedError

    # -- shared -----------------------------------------------------------------------------

    #: The header a client's idempotency key comes in.
    idempotency_header: ClassVar[str] = "idempotency-key"

    def route(
        self, app: FastAPI, method: str, url: str, name: str, handler: Handler,
        **description: Any,
    ) -> None:  # fmt: skip
        """`handler(request, **path parameters)` at `url`, described in OpenAPI."""

        async def endpoint(request: Request) -> Response:
            return await self.dispatch(request, handler)

        app.add_api_route(url, endpoint, methods=[method], operation_id=name,
                          openapi_extra=described(**description))  # fmt: skip

    async def dispatch(self, request: Request, handler: Handler) -> Response:
        """Run a route's handler; a refusal becomes the vendor's answer."""
        try:
            return await handler(request, **self.path_parameters(request))
        except Refusal as refused:
            return refused.response()

    def path_parameters(self, request: Request) -> dict[str, Any]:
        """What a handler gets of the request's path parameters."""
        return dict(request.path_params)

    async def perform(
        self, request: Request, operation: str, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        """One domain operation for `request`, with its idempotency key: the answer's body, or
        the vendor's refusal raised."""
        answer = await self.call(
            operation, payload, request.headers.get(self.idempotency_header), trace_of(request),
            getattr(request.state, "fingerprint", None),
        )  # fmt: skip
        if answer[0] >= 300:
            raise self.refusal(answer)
        return answer[1]

    async def call(
        self, operation: str, payload: Mapping[str, Any], idem_key: str | None = None,
        trace: str | None = None, fingerprint: str | None = None,
    ) -> Answer:  # fmt: skip
        """The domain operation through the profile (rule 1). With `fingerprint`, the vendor
        request (not its translation) is what an idempotency key is compared against."""
        return await self.live.serve(operation, dict(payload), idem_key, 1, trace, fingerprint)

    def records(self, entity: str) -> Mapping[str, Mapping[str, Any]]:
        """The system's records of `entity` by id, for translating ids (rule 2)."""
        return self.live.system.listing(entity) or {}

    def unix(self, scenario_seconds: float) -> int:
        """A scenario time as the Unix time vendors stamp records with."""
        return int(self.live.system.epoch + float(scenario_seconds))


def trace_of(request: Request) -> str | None:
    return request.headers.get("x-syncline-trace")


class Authenticated:
    """ASGI middleware: every request but the public paths needs the facade's credentials,
    checked before the body is read."""

    def __init__(self, app: Callable[..., Awaitable[None]], facade: Facade) -> None:
        self.app, self.facade = app, facade

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] not in self.facade.public
            and not self.facade.authorized(scope)
        ):
            await self.facade.denied()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def vendor_app(facade: Facade, limits: Limits | None = None) -> FastAPI:
    """The ASGI app of one facade: its routes behind its credentials, within `limits`."""
    app = FastAPI(
        title=f"Syncline simulated {facade.live.name} on the {facade.vendor} wire",
        version="1",
        description=(
            f"The simulated {facade.live.name} system of record, answering as {facade.vendor} "
            "does and as its profile says (latency, outages, rate limits, ghost writes)."
        ),
    )
    facade.routes(app)
    app.add_middleware(Authenticated, facade=facade)
    app.add_middleware(Limited, limits=limits or Limits())
    return app


# -- request bodies ----------------------------------------------------------------------------


class Unreadable(ValueError):
    """A body or parameter a facade cannot read; the message says why."""


async def body_bytes(request: Request, limits: Limits | None = None) -> bytes:
    try:
        return await read_body(request.stream(), (limits or Limits()).body_bytes)
    except TooLarge as large:
        raise Unreadable(str(large)) from None


_KEY = re.compile(r"\[([^\[\]]*)\]")


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form parameters in the bracket notation Stripe's SDKs send (`items[0][price]=p`,
    `expand[]=customer`) as nested objects and lists."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        head, _, rest = name.partition("[")
        path = [head, *_KEY.findall("[" + rest)] if rest else [head]
        if not head or (rest and "[" + rest != "".join(f"[{part}]" for part in path[1:])):
            raise Unreadable(f"the parameter {name[:60]!r} is not in bracket notation")
        node: Any = root
        for index, named in enumerate(path):
            last = index == len(path) - 1
            # `a[]`: the next item of a list
            part = named or str(sum(1 for key in node if key.isdigit()))
            if not isinstance(node, dict):
                raise Unreadable(f"the parameter {name[:60]!r} conflicts with another")
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    parsed: dict[str, Any] = _lists(root)
    return parsed


def _lists(node: Any) -> Any:
    """Objects whose keys are all 0, 1, 2... become lists (in index order)."""
    if not isinstance(node, dict):
        return node
    inner = {key: _lists(value) for key, value in node.items()}
    if inner and all(key.isdigit() for key in inner):
        return [inner[key] for key in sorted(inner, key=int)]
    return inner


async def form(request: Request, limits: Limits | None = None) -> dict[str, Any]:
    """The query string and a form-encoded body, as one nested object."""
    raw = await body_bytes(request, limits)
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        pairs += parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as error:
        raise Unreadable(f"the body is not form-encoded UTF-8 ({error})") from None
    parsed = parse_form(pairs)
    try:
        check(parsed)
    except Malformed as malformed:
        raise Unreadable(str(malformed)) from None
    return parsed


def described(
    path: Mapping[str, Mapping[str, Any]] | None = None,
    query: Mapping[str, Mapping[str, Any]] | None = None,
    body: Mapping[str, Any] | None = None,
    form: bool = False,
) -> dict[str, Any]:
    """An operation's OpenAPI description (FastAPI's `openapi_extra`): its path and query
    parameters and its body. Routes read their parameters from the request, so that a request
    that breaks them is answered in the vendor's error shape, not FastAPI's."""
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": dict(schema)}
        for name, schema in (path or {}).items()
    ] + [
        {"name": name, "in": "query", "required": False, "schema": dict(schema)}
        for name, schema in (query or {}).items()
    ]  # fmt: skip
    extra: dict[str, Any] = {"parameters": parameters}
    if body is not None:
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        extra["requestBody"] = {"required": True, "content": {kind: {"schema": dict(body)}}}
    return extra


def one_of(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


TEXT: dict[str, Any] = {"type": "string", "maxLength": 200}
WHOLE: dict[str, Any] = {"type": "integer", "minimum": 0}


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def json_object(raw: bytes, refuse: Callable[[str], Exception]) -> dict[str, Any]:
    """A body as a JSON object (strict JSON: `simulators.wire`), or `refuse(why)` raised."""
    try:
        parsed = decode(raw) if raw else {}
    except Malformed as malformed:
        raise refuse(str(malformed)) from None
    if not isinstance(parsed, dict):
        raise refuse("the body must be a JSON object")
    return parsed
