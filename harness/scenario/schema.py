"""The scenario file's JSON Schema, from the pydantic models: what `syncline schema` prints and
`scenarios/scenario.schema.json` holds, so an editor completes and checks scenario files.

Every field carries its meaning (the docstring under it in the models) and its unit: durations
and rates are strings with a unit, which the schema states as a pattern. What the schema cannot
say (one latency model, a fault's parameters by kind, regions the world defines) `syncline
validate` checks.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from harness.scenario.model import Scenario

SCHEMA_FILE = "scenario.schema.json"
#: The line that points YAML editors (the yaml-language-server) at the schema.
EDITOR_LINE = "# yaml-language-server: $schema="


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Syncline scenario",
        "description": "A Syncline scenario: the world, workload, vendor systems, faults and "
        "SLOs of one simulated integration run.",
        **{key: value for key, value in schema.items() if key not in ("title", "description")},
    }


def schema_text() -> str:
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema_path() -> str:
    """Where the installed package keeps the schema file (beside the shipped scenarios)."""
    return str(resources.files("scenarios") / SCHEMA_FILE)
