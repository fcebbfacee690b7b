"""Designs under test: the shipped ones by name, or a user's own as `package.module:factory`."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping

from harness.designs.api import Context, Design, DesignFactory, HandlerFn

#: Shipped designs: name -> "module:factory".
SHIPPED: Mapping[str, str] = {
    "reference": "harness.designs.reference:ReferenceDesign",
    "point-to-point": "harness.designs.point_to_point:PointToPoint",
    "choreography": "harness.designs.choreography:Choreography",
    "batch-esb": "harness.designs.batch_esb:BatchESB",
}


class DesignError(Exception):
    """A design that cannot be loaded or used; the message is meant for the user as it is."""


def load_factory(spec: str) -> tuple[str, DesignFactory]:
    """(name, factory) for a shipped design name or a `package.module:factory` path."""
    target = SHIPPED.get(spec, spec)
    if ":" not in target:
        raise DesignError(
            f"unknown design {spec!r}: use one of {', '.join(SHIPPED)} "
            "or a plugin path like package.module:factory"
        )
    module_name, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a user's own module beside them, as uvicorn does
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise DesignError(f"cannot import design module {module_name!r}: {error}") from None
    except Exception as error:
        raise DesignError(
            f"importing design module {module_name!r} failed: {type(error).__name__}: {error}"
        ) from None
    factory = getattr(module, attribute, None)
    if factory is None:
        raise DesignError(f"module {module_name!r} has no attribute {attribute!r}")
    if not callable(factory):
        raise DesignError(f"{target} is not callable; it must be a factory returning a design")
    name = spec if spec in SHIPPED else attribute
    return name, factory


def instantiate(factory: DesignFactory, label: str) -> Design:
    """Call a factory and check the result has the shape of a design."""
    try:
        design = factory()
    except DesignError:
        raise
    except Exception as error:
        raise DesignError(
            f"design factory {label} failed: {type(error).__name__}: {error}"
        ) from None
    subscriptions = getattr(design, "subscriptions", None)
    if not isinstance(getattr(design, "name", None), str) or not isinstance(subscriptions, Mapping):
        raise DesignError(
            f"{label} returned {type(design).__name__}, which is not a design: it needs a "
            "'name' string and a 'subscriptions' mapping of event type to handler"
        )
    for event_type, handler in subscriptions.items():
        if not callable(handler):
            raise DesignError(f"{label}: the handler for {event_type!r} is not callable")
    return design


__all__ = [
    "SHIPPED",
    "Context",
    "Design",
    "DesignError",
    "DesignFactory",
    "HandlerFn",
]
