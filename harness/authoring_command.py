"""Writing scenarios: `syncline init` (a complete, commented starter), `syncline schema` (the
JSON Schema editors check scenario files with) and `syncline faults` (the fault vocabulary)."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import click

from harness.scenario import ScenarioError, parse
from harness.scenario.fault_kinds import BY_NAME, MEANINGS, SCENARIO_KINDS
from harness.scenario.schema import schema_text, shipped_schema_path

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def starter(name: str, schema: str) -> str:
    """The starter scenario's text for `name`, its editor line pointing at `schema`."""
    template = resources.files("harness.scenario").joinpath("starter.yaml")
    title = f"{name}: a scenario to make your own"
    return template.read_text(encoding="utf-8").format(name=name, title=title, schema=schema)


@click.command("init")
@click.argument("name")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def init_command(name: str, force: bool) -> None:
    """Write NAME.yaml: a complete scenario with every field, its default, unit and meaning.

    It validates and runs as written (`syncline run NAME.yaml`): a small business of its own
    (three regions, six products) over two days, an ERP outage and duplicate billing webhooks.
    """
    path = Path(name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    stem = path.stem
    if not _NAME.match(stem):
        raise ScenarioError(
            f"{stem!r} cannot name a scenario: use letters, digits, '_', '.' and '-'"
        )
    if path.exists() and not force:
        raise ScenarioError(f"{path} already exists; pass --force to replace it")
    if not path.parent.is_dir():
        raise ScenarioError(f"{path.parent} is not a directory")
    schema = os.path.relpath(shipped_schema_path(), path.parent.resolve())
    text = starter(stem, schema)
    parse(text, str(path))  # what init writes must validate: a bug here is ours, not the user's
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}: check it with `syncline validate {path}`, "
               f"run it with `syncline run {path}`")  # fmt: skip


@click.command("schema")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the schema to this file instead of printing it.",
)
def schema_command(out: Path | None) -> None:
    """Print the scenario files' JSON Schema (every field with its meaning and unit).

    Editors with the YAML language server check and complete a scenario file that starts with
    `# yaml-language-server: $schema=PATH` (shipped scenarios and `syncline init` write it).
    """
    if out is None:
        click.echo(schema_text(), nl=False)
        return
    out.write_text(schema_text(), encoding="utf-8")
    click.echo(f"wrote {out}")


@click.command("faults")
def faults_command() -> None:
    """List the fault kinds a scenario's `faults:` list may name, with their parameters."""
    width = max(len(name) for name in SCENARIO_KINDS)
    for name in SCENARIO_KINDS:
        kind = BY_NAME[name]
        target = {
            "system": "target: cpq|erp|billing|support",
            "between": "between: [orchestrator, <system>]",
            "erp": "target: erp",
            "orchestrator": "target: orchestrator",
        }[kind.target]
        params = [*kind.required, *(f"[{p}]" for p in kind.optional)]
        needs = ["start", *(["duration"] if kind.needs_duration else [])]
        click.echo(f"{click.style(name.ljust(width), bold=True)}  {MEANINGS[name]}")
        click.echo(f"{'':{width}}  {target}; {', '.join([*needs, *params])}")
