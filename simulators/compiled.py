"""Which modules run compiled, and the switch back to pure Python.

The simulation's strictly typed modules (the engine, the SimPy driver, the history and the
checkers) can be compiled with mypyc by `make compiled` (setup.py) into extension modules beside
their sources; bench/RESULTS.md says what it buys and why it is opt-in. Python imports an
extension module before a source file of the same name, so the compiled code runs wherever it
was built; everywhere else the same sources run as pure Python, with the same bytes out
(tests/harness/test_speed_paths.py).

The sources are the truth. The build leaves a digest of the sources it compiled; when a source
has changed since (or `SYNCLINE_PURE=1` is set), the compiled modules are passed over and the
sources imported instead, so an edit is never shadowed by a stale build. This module uses only
the standard library: it runs first, from `simulators/__init__.py`, before any of them.
"""

from __future__ import annotations

import hashlib
import os
import sys
from importlib.machinery import (
    BYTECODE_SUFFIXES,
    SOURCE_SUFFIXES,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The compiled modules, as paths from the project's root. Left interpreted: the designs (users
#: and tests subclass them freely); the systems of record, whose state is pickled, copied and
#: read with `vars()` (a vendor log's resume, the refusal tests), which compiled classes refuse
#: or do differently; and packages' `__init__` modules (mypyc would set a compiled package's
#: path from where its shared library lies). The engine's policies take interpreted subclasses.
MODULES: tuple[str, ...] = (
    "harness/checkers/base.py",
    "harness/checkers/consistency.py",
    "harness/checkers/convergence.py",
    "harness/checkers/documents.py",
    "harness/checkers/effect_once.py",
    "harness/checkers/end_to_end.py",
    "harness/checkers/hazards.py",
    "harness/checkers/holdings.py",
    "harness/checkers/human.py",
    "harness/checkers/lineage.py",
    "harness/checkers/nothing_lost.py",
    "harness/checkers/partial_updates.py",
    "harness/checkers/plugins.py",
    "harness/checkers/reconciliation.py",
    "harness/checkers/retry_hygiene.py",
    "harness/checkers/security.py",
    "harness/checkers/truth.py",
    "harness/checkers/versions.py",
    "harness/checkers/windows.py",
    "harness/digests.py",
    "harness/effects.py",
    "harness/engine/breaker.py",
    "harness/engine/exceptions.py",
    "harness/engine/inbox.py",
    "harness/engine/outbox.py",
    "harness/engine/retry.py",
    "harness/history.py",
    "harness/interpreter.py",
    "harness/metrics.py",
    "harness/sim/actors.py",
    "harness/sim/broker.py",
    "harness/sim/driver.py",
    "harness/sim/network.py",
    "harness/sim/operations.py",
    "harness/sim/runtime.py",
    "harness/sim/sales.py",
    "harness/sim/world_calls.py",
)
#: Where the build leaves the digest of the sources it compiled.
STAMP = ROOT / "build" / "compiled.sha256"
#: The directories holding compiled modules, whose finders `select` may replace.
_DIRECTORIES = sorted({str(ROOT / Path(module).parent) for module in MODULES})


def digest() -> str:
    """The SHA-256 of the compiled modules' sources, in order."""
    sha = hashlib.sha256()
    for module in MODULES:
        sha.update(module.encode())
        sha.update((ROOT / module).read_bytes())
    return sha.hexdigest()


def state() -> str:
    """`compiled`, `pure` (asked for with SYNCLINE_PURE=1, or never built) or `stale` (a source
    changed since the build: the sources run)."""
    if os.environ.get("SYNCLINE_PURE", "") not in ("", "0"):
        return "pure"
    try:
        built = STAMP.read_text().strip()
    except OSError:
        return "pure"
    return "compiled" if built == digest() else "stale"


def select() -> str:
    """Import the sources instead of the compiled modules unless the build is fresh; returns
    the state. The finders of the compiled modules' directories are replaced with ones that
    know only source and bytecode files."""
    chosen = state()
    if chosen != "compiled":
        for directory in _DIRECTORIES:
            sys.path_importer_cache[directory] = FileFinder(
                directory,
                (SourceFileLoader, SOURCE_SUFFIXES),
                (SourcelessFileLoader, BYTECODE_SUFFIXES),
            )
    return chosen


STATE = select()
