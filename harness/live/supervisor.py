"""An orchestrator process that `syncline serve` runs, kills and restarts: a shipped design or
plugin (`--orchestrator DESIGN`), or the user's own (`--orchestrator-command CMD`).

The scenario's `orchestrator_crash` windows are enacted for real: SIGKILL when the window
opens (no goodbye; whatever was in flight is cut), and a new process on the same state
directory when it closes, which recovers from its SQLite journal as after any crash.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from harness.live.client import http_client


def die_with_parent() -> None:
    """In a child, before it runs: SIGKILL when serve dies, however it dies (Linux's
    PR_SET_PDEATHSIG), so a `kill -9` of serve leaves no orchestrator or broker holding its
    port, and `serve --resume` can start them again. Elsewhere nothing."""
    if _LIBC is not None:  # loaded beforehand: the child only makes the call
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


class OrchestratorFailed(Exception):
    """The supervised orchestrator did not come up."""


def design_command(services_dir: Path, design: str, host: str, port: int) -> list[str]:
    """`syncline orchestrator` for `design`, keeping its state beside the services."""
    return [
        sys.executable, "-m", "harness", "orchestrator", str(services_dir), "--design", design,
        "--host", host, "--port", str(port), "--state", str(services_dir / "orchestrator"),
    ]  # fmt: skip


class Supervisor:
    """Runs `command`, which must listen at `url`; its output goes to `log`."""

    def __init__(self, command: list[str], url: str, log: Path) -> None:
        self.command, self.url, self.log_path = command, url.rstrip("/"), log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log: IO[bytes] | None = None

    async def start(self, timeout_s: float = 30.0) -> None:
        """Start the orchestrator and wait until it answers."""
        if self._log is None:
            self._log = self.log_path.open("ab")
        self.starts += 1
        try:
            self.process = subprocess.Popen(
                self.command, stdout=self._log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                preexec_fn=die_with_parent,  # noqa: PLW1509 (one preloaded libc call)
            )  # fmt: skip
        except OSError as error:
            raise OrchestratorFailed(
                f"cannot start {self.command[0]!r}: {error.strerror}"
            ) from None
        deadline = time.monotonic() + timeout_s
        async with http_client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise OrchestratorFailed(
                        f"the orchestrator exited with {self.process.returncode}: see "
                        f"{self.log_path}"
                    )
                try:
                    await client.get(f"{self.url}/healthz")  # any answer: it listens
                    return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise OrchestratorFailed(f"the orchestrator did not answer at {self.url} in {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL: the crash the scenario asked for."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """Ctrl-C for the orchestrator (serve is stopping), then SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None
