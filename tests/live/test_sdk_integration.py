"""The example integration written only against the vendor SDKs passes `syncline conform` on
the seed scenario's world, with billing losing a fifth of its answers."""

from __future__ import annotations

from pathlib import Path

from tests.live.sdk_integration import checker, conform, verdict


def test_the_sdk_integration_passes_conform(tmp_path: Path) -> None:
    code, summary, printed = conform(tmp_path)
    assert code == 0, printed
    assert verdict(summary, "effect_once") == "pass"
    assert verdict(summary, "nothing_lost") == "pass"
    assert verdict(summary, "security") == "pass"
    ghost_writes = checker(summary, "effect_once")["figures"]
    assert ghost_writes["effects"] > 40, ghost_writes
