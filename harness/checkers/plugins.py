"""Checkers of one's own: plugins a scenario names (`checkers: [package.module:factory]`, or
`--checker` on the command line) and those installed packages declare in the `syncline.checkers`
entry point group; each with its thresholds under `slo.plugins.<name>`.

A plugin's factory is called as `factory(scenario, slo)` for every run and returns a checker
(harness/checkers/base.py: `name`, `wants`, `observe(position, record)`, `verdict()`). Its
name is the factory's `name` attribute, else the entry point's or the attribute's name. If the
factory has an `SLO` attribute (a pydantic model, e.g. a `harness.scenario.types.Spec`), its
`slo.plugins` section is validated by it, units and all, and passed as that model; otherwise
the section is passed as a plain mapping.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from harness.checkers.base import Checker

if TYPE_CHECKING:
    from harness.scenario import Scenario

GROUP = "syncline.checkers"
CheckerFactory = Callable[..., Checker]


class PluginError(ValueError):
    """A checker plugin that cannot be loaded or configured: one sentence for the user."""


@dataclass(frozen=True)
class Plugin:
    name: str
    spec: str  # package.module:factory
    factory: CheckerFactory

    def slo(self, section: Mapping[str, Any] | None, context: Any = None) -> Any:
        """The plugin's SLO section, validated by its `SLO` model if it declares one."""
        model = getattr(self.factory, "SLO", None)
        given = dict(section or {})
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return given
        try:
            return model.model_validate(given, context=context)
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            where = ".".join(str(p) for p in problem["loc"])
            text = problem["msg"].removeprefix("Value error, ")
            raise PluginError(
                f"slo.plugins.{self.name}{'.' + where if where else ''}: {text}"
            ) from None

    def build(self, scenario: Scenario) -> Checker:
        slo = self.slo(scenario.slo.plugins.get(self.name))
        try:
            checker = self.factory(scenario, slo)
        except Exception as error:
            raise PluginError(
                f"checker plugin {self.spec} failed: {type(error).__name__}: {error}"
            ) from None
        for needed in ("wants", "observe", "verdict", "name"):
            if not hasattr(checker, needed):
                raise PluginError(
                    f"checker plugin {self.spec} returned {type(checker).__name__}, which is "
                    f"not a checker: it has no {needed!r} (see harness/checkers/base.py)"
                )
        return checker


def installed() -> list[tuple[str, str]]:
    """(name, module:factory) of the checkers installed packages declare."""
    return sorted((ep.name, ep.value) for ep in entry_points(group=GROUP))


def load(spec: str, name: str | None = None) -> Plugin:
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise PluginError(f"checker plugin {spec!r}: write it as package.module:factory")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a module beside the user, as for designs
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PluginError(
            f"checker plugin {spec}: cannot import {module_name!r}: {error}"
        ) from None
    except Exception as error:
        raise PluginError(
            f"checker plugin {spec}: importing {module_name!r} failed: "
            f"{type(error).__name__}: {error}"
        ) from None
    factory = getattr(module, attribute, None)
    if factory is None or not callable(factory):
        raise PluginError(f"checker plugin {spec}: {module_name!r} has no callable {attribute!r}")
    return Plugin(str(getattr(factory, "name", None) or name or attribute), spec, factory)


def discover(specs: Sequence[str]) -> list[Plugin]:
    """The scenario's plugins and the installed ones, each once, in that order."""
    found: dict[str, Plugin] = {}
    for spec, name in [*((s, None) for s in specs), *((v, n) for n, v in installed())]:
        plugin = load(spec, name)
        if plugin.name in found and found[plugin.name].spec != plugin.spec:
            raise PluginError(
                f"two checker plugins are named {plugin.name!r}: {found[plugin.name].spec} "
                f"and {plugin.spec}"
            )
        found.setdefault(plugin.name, plugin)
    return list(found.values())
