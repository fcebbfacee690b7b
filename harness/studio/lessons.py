"""Lessons: a failure pattern of the seed document played as a narrated film.

A lesson is data (YAML, `harness/studio/lessons/*.yaml` for the shipped ones, or a file of a
trainer's own): a scenario and seed, the checker whose invariant the pattern breaks, and acts,
each a design with captions. The first act is usually point-to-point and pauses where the
invariant breaks; the next replays the same seed against the reference and shows it hold.

A caption's `at` is a time in the run (`90m`, `1d`), `start`, `end`, `breach` (the moment the
lesson's checker turns to fail; `breach:<checker>` for another), `fault:<kind>` (the first
window of that kind opening) or `event:<type>` (the first event of that type the systems
emit). `pause: true` stops the film there until the trainer goes on.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.units import parse_duration

NAMED_MOMENTS = ("start", "end", "breach")
MOMENT = re.compile(r"^(breach|fault|event):[A-Za-z0-9_.\-]+$")


class LessonError(ValueError):
    """A lesson that cannot be played; the message says what to fix."""


class Caption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str
    text: Annotated[str, Field(min_length=1)]
    pause: bool = False

    @field_validator("at")
    @classmethod
    def _moment(cls, value: str) -> str:
        if value in NAMED_MOMENTS or MOMENT.match(value):
            return value
        try:
            parse_duration(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a moment: give a time (90m, 1d), start, end, breach, "
                "breach:<checker>, fault:<kind> or event:<type>"
            ) from None
        return value


class Act(BaseModel):
    model_config = ConfigDict(extra="forbid")

    design: str
    captions: list[Caption] = Field(default_factory=list)


class Lesson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    pattern: str  # the seed document's failure pattern, as its table names it
    scenario: str
    seed: int = 0
    set: list[str] = Field(default_factory=list)  # scenario overrides, PATH=VALUE
    watch: str  # the checker whose invariant the pattern breaks
    acts: Annotated[list[Act], Field(min_length=1)]

    @property
    def designs(self) -> list[str]:
        return [act.design for act in self.acts]


def shipped_lessons() -> list[str]:
    folder = resources.files("harness.studio") / "lessons"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_lesson(name_or_path: str) -> tuple[str, Lesson]:
    """(name, lesson) from a file path or a shipped lesson's name."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        if not path.is_file():
            raise LessonError(f"lesson file {path} does not exist")
        name, text = path.stem, path.read_text(encoding="utf-8")
    else:
        shipped = resources.files("harness.studio") / "lessons" / f"{name_or_path}.yaml"
        if not shipped.is_file():
            raise LessonError(
                f"no lesson file or shipped lesson named {name_or_path!r} "
                f"(shipped: {', '.join(shipped_lessons())})"
            )
        name, text = name_or_path, shipped.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise LessonError(f"lesson {name} is not valid YAML: {error}") from None
    try:
        return name, Lesson.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top level"
        raise LessonError(f"lesson {name}: {where}: {first['msg']}") from None


def moment_time(at: str, overview: dict[str, Any], marks: dict[str, Any], watch: str,
                first_event: dict[str, float]) -> float | None:  # fmt: skip
    """The run time a caption's `at` names, from what the page is sent; None when the run
    never reaches it (a breach that did not happen)."""
    if at == "start":
        return 0.0
    if at == "end":
        return float(overview["end"])
    kind, _, what = at.partition(":")
    if kind == "breach":
        checker = what or watch
        return next((b["t"] for b in marks.get("breaches", []) if b["checker"] == checker), None)
    if kind == "fault":
        return next((f["start"] for f in overview["faults"] if f["kind"] == what), None)
    if kind == "event":
        return first_event.get(what)
    return parse_duration(at)
