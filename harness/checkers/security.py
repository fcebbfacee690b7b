"""Security: forged, unsigned and replayed webhooks are refused, and nothing acts on them.

`syncline conform` sends such probes to an orchestrator, each naming a business id that no
system ever issued (`FORGED-...`), and records a `conformance` note with the answer. The
verdict fails if any probe was accepted (2xx) or if any call or record later names a probed
id (the orchestrator acted on it anyway); with no probes it is unknown.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Verdict
from harness.history import CallRecord, PolicyRecord, Record, StateRecord

#: What every probed business id starts with.
FORGED_PREFIX = "FORGED-"


class Security:
    name: ClassVar[str] = "security"
    wants: ClassVar[tuple[type, ...]] = (PolicyRecord, CallRecord, StateRecord)

    def __init__(self) -> None:
        self.probes = 0
        self.accepted: list[dict[str, Any]] = []
        self.acted_on: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, PolicyRecord):
            if record.policy == "conformance" and record.event == "probe":
                self.probes += 1
                details = dict(record.details or {})
                if details.get("accepted"):
                    self.accepted.append({"probe": record.subject, "position": position,
                                          **details})  # fmt: skip
            return
        if not isinstance(record, CallRecord | StateRecord):
            return
        keys = record.keys or {}
        named = [str(v) for v in keys.values() if str(v).startswith(FORGED_PREFIX)]
        if named:
            self.acted_on.append(
                {"forged": named[0], "system": record.system, "position": position}
            )

    def verdict(self) -> Verdict:
        figures = {"probes": self.probes, "accepted": len(self.accepted),
                   "acted_on": len(self.acted_on)}  # fmt: skip
        slo = {"max_accepted": 0, "max_acted_on": 0}
        if not self.probes:
            return Verdict(self.name, "unknown", "no forged or replayed webhooks were sent",
                           figures, slo)  # fmt: skip
        summary = (
            f"{len(self.accepted)} of {self.probes} forged, unsigned or replayed webhooks "
            f"accepted; {len(self.acted_on)} calls or records acted on them"
        )
        failed = bool(self.accepted or self.acted_on)
        evidence = (self.accepted + self.acted_on)[:EVIDENCE_LIMIT]
        return Verdict(self.name, "fail" if failed else "pass", summary, figures, slo, evidence)
