"""The broker `syncline serve` starts: Debian's `redis-server`, on loopback, beside the services.

It lives as long as serve (it dies with it, even with serve's `kill -9`), so the orchestrator
can be killed and restarted under it and find its pending deliveries again. Given the run's
directory (`data`), it keeps an append-only file there, so `serve --resume` finds the streams,
pending deliveries and dead letters as they were (written before each answer; only an OS
crash could lose the last second).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from harness.live.supervisor import die_with_parent


class RedisServer:
    def __init__(self, host: str, port: int, log: Path) -> None:
        self.host, self.port, self.log = host, port, log
        self.process: subprocess.Popen[bytes] | None = None
        self.data: Path | None = None  # where its append-only file goes, if anywhere

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> None:
        kept = ["--appendonly", "no"]
        if self.data is not None:
            kept = ["--dir", str(self.data), "--appendonly", "yes", "--appendfsync", "everysec"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", self.host, "--save", "",
                 *kept, "--protected-mode", "no"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,  # noqa: PLW1509 (one preloaded libc call)
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self.process.returncode}: see {self.log}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
