"""Writing scenarios: the JSON Schema, `syncline init`, `syncline faults`, a world of one's own."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from harness.catalogue import SHIPPED
from harness.cli import main
from harness.designs import canonical
from harness.designs.reference import ReferenceDesign
from harness.runner import simulate
from harness.scenario import Scenario, ScenarioError, load, parse, shipped_scenarios
from harness.scenario.fault_kinds import MEANINGS, SCENARIO_KINDS
from harness.scenario.schema import EDITOR_LINE, scenario_schema, schema_text
from harness.world import build_world
from simulators.billing import Billing
from simulators.cpq import CPQ

SCENARIOS = Path(__file__).parents[2] / "scenarios"


def as_json(node: Any) -> Any:
    """YAML as an editor's language server reads it: timestamps are strings."""
    if isinstance(node, dict):
        return {str(key): as_json(value) for key, value in node.items()}
    if isinstance(node, list):
        return [as_json(item) for item in node]
    if isinstance(node, datetime.datetime | datetime.date):
        return node.isoformat().replace("+00:00", "Z")
    return node


def validator() -> jsonschema.protocols.Validator:
    schema = scenario_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("name", shipped_scenarios())
def test_the_json_schema_validates_every_shipped_scenario(name: str) -> None:
    text = (SCENARIOS / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith(f"{EDITOR_LINE}scenario.schema.json\n")
    errors = list(validator().iter_errors(as_json(yaml.safe_load(text))))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_json_schema_refuses_what_validation_refuses() -> None:
    data = as_json(yaml.safe_load((SCENARIOS / "subscription_amendment.yaml").read_text()))
    for path, value in (
        (("duration",), 48),  # a bare number where a unit belongs
        (("workload", "amendments"), "12 per hour"),
        (("workload", "ammendments"), "12/h"),  # an unknown field
        (("systems", "erp", "ghost_write_probability"), 2),
    ):
        broken = json.loads(json.dumps(data))
        node = broken
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        assert list(validator().iter_errors(broken)), path


def test_every_field_has_a_meaning_and_the_shipped_schema_file_is_current() -> None:
    schema = scenario_schema()
    for name, definition in [("Scenario", schema), *schema["$defs"].items()]:
        for field, spec in definition.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{field} has no description"
    assert (SCENARIOS / "scenario.schema.json").read_text(encoding="utf-8") == schema_text(), (
        "scenarios/scenario.schema.json is stale: run `syncline schema --out "
        "scenarios/scenario.schema.json`"
    )


def field_paths(model: Any = Scenario, prefix: str = "") -> set[str]:
    paths = set()
    for name, field in model.model_fields.items():
        paths.add(name)
        for inner in _models(field.annotation):
            paths |= field_paths(inner, name)
    return paths


def _models(annotation: Any) -> list[Any]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _models(arg)]


def test_init_writes_every_field_and_the_result_validates_and_passes(tmp_path: Path) -> None:
    runner, target = CliRunner(), str(tmp_path / "acme")
    result = runner.invoke(main, ["init", target])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "acme.yaml").read_text(encoding="utf-8")
    again = runner.invoke(main, ["init", target])
    assert again.exit_code == 2 and "already exists; pass --force" in again.output
    bad = runner.invoke(main, ["init", str(tmp_path / "a b")])
    assert bad.exit_code == 2 and "cannot name a scenario" in bad.output
    schema_line = text.splitlines()[0]
    assert schema_line.startswith(EDITOR_LINE) and schema_line.endswith("scenario.schema.json")
    keys = set(re.findall(r"(?:^|[{,\s])([a-z_0-9]+):", text, flags=re.MULTILINE))
    missing = sorted(field_paths() - keys)
    assert not missing, f"syncline init does not show {missing}"
    scenario = parse(text, "acme.yaml")
    assert scenario.name == "acme" and "NL" in scenario.world.catalogue().regions
    result = simulate(scenario, ReferenceDesign, seed=0)
    failing = {v.checker: v.summary for v in result[0] if v.status != "pass"}
    assert not failing


def test_faults_lists_every_kind_with_its_meaning() -> None:
    result = CliRunner().invoke(main, ["faults"])
    assert result.exit_code == 0
    for kind in SCENARIO_KINDS:
        assert re.search(rf"^{kind}\s+{re.escape(MEANINGS[kind])}$", result.output, re.M)


OWN_WORLD = """
world:
  customers: 50
  regions: {NL: 2, SE: 1}
  legal_entities:
    NL: {name: Acme Nederland B.V., currency: EUR, tax_code: NL-BTW-21, locale: nl_NL}
    SE: {name: Acme Sverige AB, currency: SEK, tax_code: SE-MOMS-25, locale: sv_SE}
  currencies: {SEK: {minor_units: 100, per_usd: 10.5}}
  products:
    - {sku: SEAT, kind: subscription, list_price: 100, upgrades_to: SEAT-PRO}
    - {sku: SEAT-PRO, kind: subscription, list_price: 200, share: 50%}
    - {sku: CARE, kind: support, list_price: 30, support_level: premium}
    - {sku: EXTRA, kind: subscription, list_price: 10, add_on: true, share: 100%}
"""


def own_world(extra: str = "", world: str = OWN_WORLD) -> str:
    seed = (SCENARIOS / "subscription_amendment.yaml").read_text(encoding="utf-8")
    head, _, rest = seed.partition("\nworld:\n")
    _, _, tail = rest.partition("\nworkload:\n")
    return f"{head}\n{world.strip()}\n{extra}\nworkload:\n{tail}"


def test_a_world_of_its_own_regions_currencies_and_products() -> None:
    scenario = parse(own_world(), "own.yaml")
    world = build_world(scenario.world, 3)
    assert {c.region for c in world.customers} == {"NL", "SE"}
    assert world.erp_reference.tax_codes["SE"].code == "SE-MOMS-25"
    assert world.erp_reference.subsidiaries["SUB-SE"].currency == "SEK"
    assert world.catalog.product("SEAT").prices["SEK"] == 100 * 10.5 * 100
    assert world.erp_reference.items == {
        "SEAT": "ITEM-0001", "SEAT-PRO": "ITEM-0002", "CARE": "ITEM-0003", "EXTRA": "ITEM-0004"
    }  # fmt: skip
    assert "HW-EDGE-100" not in world.catalog  # the shipped catalogue is replaced


def test_a_world_of_its_own_runs_and_passes_on_the_reference(tmp_path: Path) -> None:
    scenario = parse(own_world(), "own.yaml", overrides=["duration=2d"])
    history = tmp_path / "history.jsonl"
    verdicts, _ = simulate(scenario, ReferenceDesign, seed=5, history_file=history)
    assert not {v.checker: v.summary for v in verdicts if v.status != "pass"}
    text = history.read_text(encoding="utf-8")
    for sku in ("SEAT", "SEAT-PRO", "CARE", "EXTRA"):  # every role was sold
        assert f'"{sku}"' in text, sku
    assert "HW-EDGE" not in text


def test_support_plans_of_its_own_entitle_as_cpq_and_billing_describe_them() -> None:
    world = build_world(parse(own_world(), "own.yaml").world, 3)
    lines = [{"sku": "SEAT", "quantity": 4}, {"sku": "CARE", "quantity": 4}]
    cpq = CPQ(world.catalog, world.accounts())
    quote = cpq.handle("create_quote", {"customer_id": world.customers[0].customer_id,
                                        "lines": lines}, 0.0)  # fmt: skip
    approval = cpq.handle("approve_quote", {"quote_id": quote.body["quote_id"]}, 1.0)
    approved = next(e for e in approval.events if e.type == "quote.approved")
    assert canonical.quote(approved).entitlement().level == "premium"
    billing = Billing(world.billing_catalog)
    order = canonical.quote(approved).order().request()
    fields = ("contract_id", "contract_version", "customer_id", "currency", "lines")
    created = billing.handle("create_subscription", {k: order[k] for k in fields}, 2.0)
    assert created.ok, created.error
    activated = next(e for e in created.events if e.type == "subscription.activated")
    entitled = canonical.subscription(activated).entitlement()
    assert (entitled.level, entitled.covered_units) == ("premium", 4)


@pytest.mark.parametrize(
    ("world", "message"),
    [
        (
            OWN_WORLD.replace("{NL: 2, SE: 1}", "{NL: 2, SEE: 1}"),
            "unknown region 'SEE' (did you mean 'SE'?",
        ),
        (
            OWN_WORLD.replace("currency: SEK", "currency: NOK"),
            "NOK is not a shipped currency; define it",
        ),
        (
            OWN_WORLD.replace("locale: sv_SE", "locale: sv_XX"),
            "unknown locale 'sv_XX' (did you mean",
        ),
        (OWN_WORLD.replace(", support_level: premium", ""), "a support plan needs a support_level"),
        (
            OWN_WORLD.replace("upgrades_to: SEAT-PRO", "upgrades_to: SEAT-MAX"),
            "upgrades_to names SEAT-MAX",
        ),
        (OWN_WORLD.replace("sku: EXTRA", "sku: SEAT"), "SKU SEAT is listed twice"),
        (OWN_WORLD + "  gaps: {unmapped_skus: [HW-EDGE-100]}\n", "unknown SKU 'HW-EDGE-100'"),
    ],
)
def test_a_world_that_names_what_it_lacks_is_refused(world: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse(own_world(world=world), "own.yaml")
    assert message in str(caught.value)


def test_the_shipped_world_is_the_default() -> None:
    assert load("subscription_amendment").world.catalogue() is SHIPPED
