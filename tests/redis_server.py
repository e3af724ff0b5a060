"""A throwaway Debian `redis-server` on a free loopback port, without persistence
(installed by `make test` / `make test-fast`, Makefile target `redis`).

`stop()` and `start()` again on the same port let a test take Redis away from running
dashboards and bring it back.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from ert_run import free_port

START_TIMEOUT = 30.0


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed: run `make redis` (apt-get)")
        command = [
            executable,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._workdir),
            "--loglevel", "warning",
        ]  # fmt: skip
        log = open(self._workdir / "redis.log", "ab")  # noqa: SIM115 - the child owns it
        try:
            self._process = subprocess.Popen(command, stdout=log, stderr=log)
        finally:
            log.close()
        self._wait_ready()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=START_TIMEOUT)
            self._process = None

    def flush(self) -> None:
        with redis.Redis.from_url(self.url) as client:
            client.flushall()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self._workdir / 'redis.log'}")
            try:
                with redis.Redis.from_url(self.url, socket_timeout=2) as client:
                    if client.ping():
                        return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")
