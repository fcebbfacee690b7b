"""JSON texts made on every call, with their encoder built once.

`json.dumps(value, sort_keys=True, ...)` builds a `JSONEncoder` and then a C encoder on every
call, which costs more than encoding a small payload. `dumps_as(...)` builds them once and gives
the same text as `json.dumps` with the same settings, for values that are trees (no container
inside itself: the circular-reference check is left out). Without the C accelerator (another
Python), it is `json.dumps` itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any


def dumps_as(
    *,
    sort_keys: bool = False,
    separators: tuple[str, str] = (", ", ": "),
    ensure_ascii: bool = True,
    default: Callable[[Any], Any] | None = None,
) -> Callable[[Any], str]:
    """`json.dumps` with these settings, as one function built once."""
    if c_make_encoder is None:
        return functools.partial(json.dumps, sort_keys=sort_keys, separators=separators,
                                 ensure_ascii=ensure_ascii, default=default)  # fmt: skip
    settings = json.JSONEncoder(sort_keys=sort_keys, separators=separators, default=default)
    encode = c_make_encoder(
        None,  # no circular-reference check: payloads and records are trees
        settings.default,
        encode_basestring_ascii if ensure_ascii else encode_basestring,
        None,  # no indent
        settings.key_separator,
        settings.item_separator,
        sort_keys,
        False,  # skipkeys
        True,  # allow_nan, as json.dumps
    )

    def dumps(value: Any) -> str:
        return "".join(encode(value, 0))

    return dumps
