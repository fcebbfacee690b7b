"""Loading scenario files: YAML in, a validated `Scenario` out, errors with file, line and path.

Every problem a user can make (a typo in a field name, a negative rate, a missing file, bad
YAML) becomes a `ScenarioError` whose message is one sentence naming the place to fix.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from harness.scenario.model import Scenario
from harness.scenario.types import OPTIONAL_SYSTEMS, STRICT_UNITS, SYSTEMS


class ScenarioError(Exception):
    """A scenario that cannot be used; the message is meant for the user as it is."""


def shipped_scenarios() -> list[str]:
    folder = resources.files("scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def resolve(name_or_path: str) -> tuple[str, str]:
    """(display name, YAML text) for a file path or the name of a shipped scenario."""
    path = Path(name_or_path)
    if path.is_dir():
        raise ScenarioError(f"{path} is a directory; give a scenario file (*.yaml)")
    if path.is_file():
        try:
            return str(path), path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ScenarioError(f"cannot read scenario file {path}: {error}") from None
    if path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        raise ScenarioError(f"scenario file {name_or_path} does not exist")
    shipped = resources.files("scenarios") / f"{name_or_path}.yaml"
    if shipped.is_file():
        return name_or_path, shipped.read_text(encoding="utf-8")
    raise ScenarioError(
        f"no scenario file or shipped scenario named {name_or_path!r} "
        f"(shipped: {', '.join(shipped_scenarios())})"
    )


def load(name_or_path: str, overrides: Sequence[str] = ()) -> Scenario:
    """Load a scenario file or a shipped scenario, with `PATH=VALUE` overrides applied."""
    source, text = resolve(name_or_path)
    return parse(text, source, default_name=Path(source).stem, overrides=overrides)


def parse(
    text: str,
    source: str = "<scenario>",
    default_name: str = "scenario",
    overrides: Sequence[str] = (),
    strict_units: bool = True,
) -> Scenario:
    """Validate scenario YAML. `strict_units=False` reads bare numbers as seconds (or per hour,
    for rates): for run directories written before scenario files had to state their units."""
    data, lines = _read_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a mapping of fields, not {data!r}")
    data.setdefault("name", default_name)
    for override in overrides:
        _override(data, override)
    try:
        return Scenario.model_validate(data, context=STRICT_UNITS if strict_units else None)
    except ValidationError as error:
        raise ScenarioError(_explain(error, source, lines, overrides)) from None


def _override(data: dict[str, Any], override: str) -> None:
    """Apply `a.b.c=VALUE` (VALUE read as YAML, so `[..]` and `{..}` work) to raw data;
    `a.b+=VALUE` appends to the list there; a system's name stands for `systems.<name>`."""
    path_text, equals, value_text = override.partition("=")
    if not equals or not path_text.strip():
        raise ScenarioError(f"--set {override!r}: write it as PATH=VALUE, e.g. duration=2d")
    append = path_text.endswith("+")
    path_text = path_text.removesuffix("+").strip()
    try:
        value = yaml.safe_load(value_text)
    except yaml.YAMLError:
        raise ScenarioError(f"--set {override!r}: the value is not valid YAML") from None
    parts = path_text.split(".")
    if parts[0] in (*SYSTEMS, *OPTIONAL_SYSTEMS) and parts[0] not in data:
        parts.insert(0, "systems")
    node: Any = data
    for depth, part in enumerate(parts):
        key: str | int = int(part) if part.isdigit() and isinstance(node, list) else part
        if depth == len(parts) - 1:
            if isinstance(node, list) and not (isinstance(key, int) and key < len(node)):
                raise ScenarioError(f"--set {override!r}: {path_text} is not in the scenario")
            if append:
                held = node.get(key) if isinstance(node, dict) else node[key]
                if held is not None and not isinstance(held, list):
                    raise ScenarioError(f"--set {override!r}: {path_text} is not a list")
                node[key] = [*(held or []), value]
            else:
                node[key] = value
        else:
            if isinstance(node, dict) and not isinstance(node.get(key), dict | list):
                node[key] = {}
            elif isinstance(node, list) and not (isinstance(key, int) and key < len(node)):
                raise ScenarioError(f"--set {override!r}: {path_text} is not in the scenario")
            node = node[key]


def _read_yaml(text: str, source: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Parse YAML and note the line of every mapping key and list item, by path."""
    lines: dict[tuple[str | int, ...], int] = {}
    constructor = yaml.constructor.SafeConstructor()

    def build(node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if key in result:
                    raise ScenarioError(
                        f"{source}:{key_node.start_mark.line + 1}: "
                        f"field {key!r} appears twice in {_dotted(path) or 'the file'}"
                    )
                lines[(*path, key)] = key_node.start_mark.line + 1
                result[key] = build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, index)) for index, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(f"{where}: this is not valid YAML ({problem})") from None
    if node is None:
        raise ScenarioError(f"{source}: the scenario file is empty")
    return build(node, ()), lines


def _dotted(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _explain(
    error: ValidationError,
    source: str,
    lines: Mapping[tuple[str | int, ...], int],
    overrides: Sequence[str] = (),
) -> str:
    """Every problem, one line each with its place: one sentence when there is one."""
    problems = error.errors(include_url=False)
    unknown = {
        _location(p): str(_location(p)[-1]) for p in problems if p["type"] == "extra_forbidden"
    }
    found: list[tuple[int, str]] = []
    for problem in problems:
        loc = _location(problem)
        if problem["type"] == "missing" and _misspelt(loc, unknown):
            continue  # said once, as "did you mean" on the misspelt field
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
        where = f"{source}:{line}" if line is not None else source
        dotted = ".".join(map(str, loc))
        sentence = _sentence(problem, loc, unknown)
        for override in overrides:  # a mistake in an override is pointed at on the command line
            path, _, value = override.partition("=")
            path = path.removesuffix("+").strip()
            named = dotted.startswith(path) or path.startswith(dotted + ".")
            if (named and dotted) or (not dotted and value.strip() and value.strip() in sentence):
                where = _as_typed(override)
        message = f"{where}: {sentence}"
        if message not in (text for _, text in found):
            found.append((line or 0, message))
    found.sort(key=lambda item: item[0])
    if len(found) == 1:
        return found[0][1]
    listed = "\n".join(f"  {text}" for _, text in found)
    return f"{source} has {len(found)} problems:\n{listed}"


def _as_typed(override: str) -> str:
    """The override as the user gave it: `--checker X` travels as `checkers+=X`."""
    if override.startswith("checkers+="):
        return f"--checker {override.removeprefix('checkers+=')}"
    return f"--set {override}"


def _location(problem: Any) -> tuple[str | int, ...]:
    return tuple(p for p in problem["loc"] if not (isinstance(p, str) and "[" in p))


def _misspelt(
    loc: tuple[str | int, ...], unknown: Mapping[tuple[str | int, ...], str]
) -> str | None:
    """The unknown field beside a missing required one that looks like its misspelling."""
    siblings = [field for place, field in unknown.items() if place[:-1] == loc[:-1]]
    close = difflib.get_close_matches(str(loc[-1]), siblings, n=1, cutoff=0.75)
    return close[0] if close else None


def _sentence(
    problem: Any, loc: tuple[str | int, ...], unknown: Mapping[tuple[str | int, ...], str]
) -> str:
    if problem["type"] == "extra_forbidden":
        field, parent = str(loc[-1]), loc[:-1]
        known = _fields_at(parent)
        close = difflib.get_close_matches(field, known, n=1)
        if close:
            missing = close[0] in _required_at(parent)
            hint = f"did you mean {close[0]!r}?{' it is required' if missing else ''}"
        else:
            hint = f"known fields: {', '.join(known)}"
        return f"unknown field {field!r} in {_dotted(parent) or 'the scenario'} ({hint})"
    if problem["type"] == "missing":
        owner = _dotted(loc[:-1]) or "the scenario"
        return f"{owner} is missing the required field {str(loc[-1])!r}"
    text = problem["msg"].removeprefix("Value error, ")
    return f"{_dotted(loc)}: {text}" if loc else text


def _required_at(path: tuple[str | int, ...]) -> set[str]:
    model = _model_at(path)
    if model is None:
        return set()
    return {name for name, field in model.model_fields.items() if field.is_required()}


def _fields_at(path: tuple[str | int, ...]) -> list[str]:
    """The field names a scenario allows at `path`, for did-you-mean hints."""
    model = _model_at(path)
    return list(model.model_fields) if model is not None else []


def _model_at(path: tuple[str | int, ...]) -> Any:
    model: Any = Scenario
    skip_container_key = False
    for part in path:
        if skip_container_key:
            skip_container_key = False
            continue
        if not _is_model(model) or part not in model.model_fields:
            return None
        model, skip_container_key = _inner_model(model.model_fields[part].annotation)
    return model if _is_model(model) else None


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _inner_model(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            inner, container = _inner_model(arg)
            if _is_model(inner):
                return inner, container
        return None, False
    if origin in (list, dict):
        inner, _ = _inner_model(get_args(annotation)[-1])
        return inner, True
    return annotation, False
