"""Driver-level behaviours that only show when requests overlap in time."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import Effect
from harness.history import CallRecord, read_history
from harness.runner import run
from simulators.base import DomainEvent
from simulators.webhooks import verify
from tests.harness.test_faults import quiet


def test_a_retry_while_the_first_request_is_still_served_gets_409(tmp_path: Path) -> None:
    """Billing often outlasts the client's 30 s; its retry, same key, meets the first request."""
    scenario = quiet(**{"systems.billing.latency": {"uniform": ["20s", "45s"]}})
    result = run(scenario, "reference", 7, tmp_path)
    records = list(read_history(result.run_dir / "history.jsonl"))
    conflicts = [r for r in records if isinstance(r, CallRecord) and r.cause == "conflict"]
    assert conflicts and {r.error_code for r in conflicts} == {"idempotency_key_in_use"}
    assert result.summary["systems"]["billing"]["rejections"]["conflict"] == len(conflicts)
    verdicts = {v.checker: v.status for v in result.verdicts}
    assert verdicts["effect_once"] == "pass"  # the key held: one subscription, one invoice


class SignatureChecker(ReferenceDesign):
    """The reference, verifying each billing callout's signature as it arrives."""

    name = "signature-checker"

    def __init__(self) -> None:
        super().__init__()
        self.checked: list[bool] = []

    def on_billing_changed(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, None]:
        now = yield ctx.now()
        epoch = 1772409600  # 2026-03-02T00:00:00Z, the scenario's start
        self.checked.append(verify("whsec_simulated", event.signature, event.payload, epoch + now))
        yield from super().on_billing_changed(ctx, event)


def test_stripe_like_callouts_arrive_signed(tmp_path: Path) -> None:
    design = SignatureChecker()
    run(quiet(**{"systems.billing.preset": "stripe-like"}), lambda: design, 7, tmp_path)
    assert design.checked and all(design.checked)
