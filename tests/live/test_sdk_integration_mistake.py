"""The same example with the classic mistake, Stripe's writes retried without an idempotency
key, fails the checker that judges each business effect happened once."""

from __future__ import annotations

from pathlib import Path

from tests.live.sdk_integration import checker, conform, verdict


def test_without_idempotency_keys_it_fails_effect_once(tmp_path: Path) -> None:
    code, summary, printed = conform(tmp_path, "--without-idempotency-keys")
    assert code == 1, printed
    assert verdict(summary, "effect_once") == "fail", printed
    duplicates = checker(summary, "effect_once")["figures"]
    assert duplicates["duplicates"] > 0, duplicates
    assert verdict(summary, "nothing_lost") == "pass", printed  # the one mistake, caught
