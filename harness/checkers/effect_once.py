"""Effect-once: each business effect happened once per business key.

A simulated system marks every write that is a business effect with its key (one sales order
per quote, one subscription per contract, one invoice and one entitlement revision per contract
version). Two writes with one key are a duplicate the customer or finance would see: a second
order, a second invoice, a second entitlement notice.

A first write is remembered with its position and id for `EVIDENCE_WINDOW_S` (a week: retries,
duplicate webhooks and batch re-runs repeat an effect within hours or days); after that only a
digest of its key is kept (harness/digests.py: 9 bytes), so a duplicate of a week-old effect is
still caught, with its own id and position as evidence.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict
from harness.digests import Digests
from harness.history import Record, StateRecord
from harness.scenario.slos import EffectOnceSLO
from harness.units import format_duration

#: How long a first write's position and id are kept for the evidence of its duplicates.
EVIDENCE_WINDOW_S = 7 * 86400.0


class EffectOnce:
    name: ClassVar[str] = "effect_once"
    wants: ClassVar[tuple[type, ...]] = (StateRecord,)

    def __init__(self, slo: EffectOnceSLO | None = None) -> None:
        self.slo = slo or EffectOnceSLO()
        #: (system, entity) -> effect key -> the first write's (position, entity id), for the
        #: effects first written within the evidence window; one mapping per kind of effect
        self.first: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}
        self.older = Digests()  # the keys first written before the window
        self._written: deque[tuple[float, tuple[str, str], str]] = deque()  # first writes
        self.effects = 0
        #: (system, entity, key) -> the first write (None when only its digest was left), then
        #: every later write
        self.duplicates: dict[tuple[str, str, str], list[tuple[int, str] | None]] = {}

    def observe(self, position: int, record: Record) -> None:
        assert isinstance(record, StateRecord)
        effect_key = record.effect_key
        if effect_key is None:
            return
        written = self._written
        while written and written[0][0] < record.t - EVIDENCE_WINDOW_S:
            _, old_kind, old_key = written.popleft()
            del self.first[old_kind][old_key]
            self.older.set(_identity(old_kind, old_key), 1)
        kind = (record.system, record.entity)
        firsts = self.first.get(kind)
        if firsts is None:
            firsts = self.first[kind] = {}
        write = (position, record.entity_id)
        key = (record.system, record.entity, effect_key)
        if key in self.duplicates:
            self.duplicates[key].append(write)
        elif effect_key in firsts:
            self.duplicates[key] = [firsts[effect_key], write]
        elif len(self.older) and _identity(kind, effect_key) in self.older:
            self.duplicates[key] = [None, write]
        else:
            firsts[effect_key] = write
            written.append((record.t, kind, effect_key))
            self.effects += 1

    def verdict(self) -> Verdict:
        by_entity: dict[str, int] = {}
        evidence: list[dict[str, Any]] = []
        for key, writes in self.duplicates.items():
            system, entity, effect_key = key
            label = f"{system}.{entity}"
            by_entity[label] = by_entity.get(label, 0) + len(writes) - 1
            if len(evidence) < EVIDENCE_LIMIT:
                known = [write for write in writes if write is not None]
                item: dict[str, Any] = {
                    "effect": label,
                    "business_key": effect_key,
                    "ids": [entity_id for _, entity_id in known],
                    "positions": [position for position, _ in known],
                }
                if writes[0] is None:
                    item["first_write"] = f"more than {format_duration(EVIDENCE_WINDOW_S)} earlier"
                evidence.append(item)
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


def _identity(kind: tuple[str, str], effect_key: str) -> str:
    return f"{kind[0]}\x1f{kind[1]}\x1f{effect_key}"
