"""A refused request leaves the system of record exactly as it was (base rule 1).

Hypothesis drives each simulator's domain with random requests, valid and not: every operation,
fields drawn from what exists (customers, SKUs, the IDs earlier answers gave) or hostile
(wrong types, `2.7` and `10**30` quantities, infinities, lone surrogates, huge text, nulls,
lists and objects where a value belongs). After each refused request the system's whole state
(records, counters, indexes, idempotency keys, change feed) is compared with a copy taken
before it, and the refusal wrote no state record and emitted no event.
"""

from __future__ import annotations

import copy
import functools
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.seeds import streams
from harness.systems import build_systems
from simulators.base import SystemOfRecord
from simulators.support import LEVELS
from tests.conftest import scenario_with

HOSTILE = st.one_of(
    st.none(), st.booleans(), st.just(2.7), st.just(10**30), st.just(-1), st.just(0),
    st.just(float("inf")), st.just(float("nan")), st.just("abc"), st.just("\ud800"),
    st.just("x" * 5000), st.just([1]), st.just({}), st.just([{"sku": "X", "quantity": 1}]),
    st.integers(), st.text(max_size=8),
)  # fmt: skip
APPROVERS = ["finance", "legal"]


def _ids(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(field, value) of every ID and version an answer names, to reuse in later requests."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _ids(inner, name)
    elif isinstance(value, list):
        for inner in value:
            yield from _ids(inner, key.removesuffix("s") if key.endswith("_ids") else key)
    elif key.endswith("_id") or key in ("contract_version", "approvals"):
        yield ("approval_id" if key == "approvals" else key, value)


def plausible(
    system: SystemOfRecord, seen: dict[str, list[Any]], name: str
) -> st.SearchStrategy[Any]:
    """What a well-behaved client would send for field `name`."""
    world: dict[str, list[Any]] = {
        "customer_id": sorted(getattr(system, "accounts", None) or _customers(system)),
        "currency": ["USD", "EUR", "GBP"],
        "level": list(LEVELS),
        "approver": APPROVERS,
        "source": ["invoice", "payment", "credit_memo"],
        "invoice_status": ["draft", "posted"],
    }
    pool = seen.get(name, []) + world.get(name, [])
    skus = sorted(getattr(getattr(system, "catalog", None), "products", {}) or ["SKU-1"])
    lines = st.lists(
        st.fixed_dictionaries({"sku": st.sampled_from(skus), "quantity": st.integers(1, 5)}),
        min_size=1, max_size=3,
    )  # fmt: skip
    special: dict[str, st.SearchStrategy[Any]] = {
        "lines": lines,
        "approvers": st.lists(st.sampled_from(APPROVERS), min_size=1, max_size=2, unique=True),
        "contract_version": st.integers(1, 4), "from_version": st.integers(0, 4),
        "amount": st.integers(1, 10**6), "total": st.integers(0, 10**6),
        "term_months": st.integers(1, 60), "severity": st.integers(1, 4),
    }  # fmt: skip
    if name in special:
        return special[name] if not pool else st.one_of(special[name], st.sampled_from(pool))
    return st.sampled_from(pool) if pool else st.text(min_size=1, max_size=12)


def _customers(system: SystemOfRecord) -> list[str]:
    master = getattr(system, "master", None)
    return sorted(master.customers) if master is not None else ["C-1"]


#: What no request changes (the price book, the accounts CPQ was loaded with).
STATIC = {"catalog", "accounts", "_operations"}


def state(system: SystemOfRecord, keyed: bool) -> dict[str, bytes]:
    """Everything the system holds, attribute by attribute, as bytes to compare. An empty table
    is no table (a read may name one); with `keyed`, the idempotency keys are left out (a
    business refusal keeps its key, as Stripe keeps a refusal's result)."""
    held = {k: v for k, v in vars(system).items() if k not in STATIC}
    held["records"] = {entity: table for entity, table in system.records.items() if table}
    if keyed:
        del held["_idem_store"], held["_idem_expiry"]
    return {name: pickle.dumps(value) for name, value in held.items()}


@functools.cache
def pristine(name: str) -> SystemOfRecord:
    scenario = scenario_with(**{"world.customers": 40})
    return build_systems(scenario, 5, streams(5)).by_name[name]


@pytest.mark.parametrize("name", ["cpq", "erp", "billing", "support"])
@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(data=st.data())
def test_a_refused_request_changes_nothing(name: str, data: st.DataObject) -> None:
    system = copy.deepcopy(pristine(name))
    system.keep_feed()
    seen: dict[str, list[Any]] = {}
    refused = applied = 0
    for step in range(data.draw(st.integers(5, 25), label="requests")):
        operation = data.draw(st.sampled_from(system.operations), label="operation")
        declared = system.requests[operation]
        well_formed = data.draw(st.booleans(), label="well formed")
        payload: dict[str, Any] = {}
        for field in declared.fields:
            if well_formed:  # what a client means to send: required fields, some optional ones
                choices = ["plausible"] if field in declared.required else ["plausible", "absent"]
            else:
                choices = ["plausible", "hostile", "hostile", "absent"]
            choice = data.draw(st.sampled_from(choices))
            if choice == "plausible":
                payload[field] = data.draw(plausible(system, seen, field), label=field)
            elif choice == "hostile":
                payload[field] = data.draw(HOSTILE, label=field)
        if data.draw(st.booleans(), label="extra field"):
            payload["unexpected"] = data.draw(HOSTILE)
        key = data.draw(st.sampled_from([None, None, "k1", "k2"]), label="idempotency key")
        before = state(system, keyed=key is not None)
        scoped = f"{operation}\x1f{key}"
        stored = system._idem_store.get(scoped)
        outcome = system.handle(operation, payload, 60.0 * step, key)
        if outcome.error is None:
            applied += 1
            for field, value in _ids(dict(outcome.body)):
                if isinstance(value, str | int) and value not in seen.setdefault(field, []):
                    seen[field].append(value)
            continue
        refused += 1
        assert outcome.changes == () and outcome.events == (), (operation, payload)
        assert 400 <= outcome.status < 500, (operation, payload, outcome)
        after = state(system, keyed=key is not None)
        changed = sorted(name for name in before if after[name] != before[name])
        assert not changed, (operation, payload, outcome.error, changed)
        if system.malformed(operation, payload) is not None:  # a malformed one uses up no key
            assert system._idem_store.get(scoped) is stored
    assert applied + refused > 0
