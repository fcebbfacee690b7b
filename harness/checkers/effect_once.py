"""Effect-once: each business effect happened once per business key.

A simulated system marks every write that is a business effect with its key (one sales order
per quote, one subscription per contract, one invoice and one entitlement revision per contract
version). Two writes with one key are a duplicate the customer or finance would see: a second
order, a second invoice, a second entitlement notice.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict
from harness.history import Record, StateRecord
from harness.scenario.slos import EffectOnceSLO


class EffectOnce:
    name: ClassVar[str] = "effect_once"
    wants: ClassVar[tuple[type, ...]] = (StateRecord,)

    def __init__(self, slo: EffectOnceSLO | None = None) -> None:
        self.slo = slo or EffectOnceSLO()
        #: (system, entity) -> effect key -> the first write's (position, entity id); one
        #: mapping per kind of effect, so a long run pays for the keys, not for tuples of them
        self.first: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}
        self.effects = 0
        self.duplicates: dict[tuple[str, str, str], list[tuple[int, str]]] = {}

    def observe(self, position: int, record: Record) -> None:
        assert isinstance(record, StateRecord)
        if record.effect_key is None:
            return
        kind = (record.system, record.entity)
        firsts = self.first.get(kind)
        if firsts is None:
            firsts = self.first[kind] = {}
        if record.effect_key not in firsts:
            firsts[record.effect_key] = (position, record.entity_id)
            self.effects += 1
        else:
            key = (record.system, record.entity, record.effect_key)
            self.duplicates.setdefault(key, []).append((position, record.entity_id))

    def verdict(self) -> Verdict:
        by_entity: dict[str, int] = {}
        evidence: list[dict[str, Any]] = []
        for key, extra in self.duplicates.items():
            system, entity, effect_key = key
            label = f"{system}.{entity}"
            by_entity[label] = by_entity.get(label, 0) + len(extra)
            if len(evidence) < EVIDENCE_LIMIT:
                writes = [self.first[(system, entity)][effect_key], *extra]
                evidence.append(
                    {
                        "effect": label,
                        "business_key": effect_key,
                        "ids": [entity_id for _, entity_id in writes],
                        "positions": [position for position, _ in writes],
                    }
                )
        duplicates = sum(by_entity.values())
        figures = {
            "effects": self.effects,
            "duplicates": duplicates,
            "duplicates_by_effect": dict(sorted(by_entity.items())),
        }
        if not self.effects:
            return Verdict(self.name, "unknown", "no business effects were recorded", figures)
        slo = {"max_duplicates": self.slo.max_duplicates}
        if duplicates:
            worst = ", ".join(f"{count:,} {label}" for label, count in sorted(by_entity.items()))
            summary = f"{duplicates:,} duplicate effects ({worst}) in {self.effects:,} effects"
            status: Status = "fail" if duplicates > self.slo.max_duplicates else "pass"
            return Verdict(self.name, status, summary, figures, slo, evidence)
        summary = f"{self.effects:,} effects, each once"
        return Verdict(self.name, "pass", summary, figures, slo)
