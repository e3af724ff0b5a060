"""`python -m ert_run` (what `make run` runs) for tests: started, waited for until it says
it is ready, stopped with Ctrl-C (SIGINT) as a person would."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ert_run import ROOT

READY = "Ctrl-C stops both tiers"


@dataclass
class Run:
    process: subprocess.Popen[str]
    said: list[str] = field(default_factory=list)  # its stdout lines until ready

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; its exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(30)


@contextmanager
def make_run(
    env: Mapping[str, str], port: int, gpu_port: int, key_file: Path, timeout: float = 120
) -> Iterator[Run]:
    """Both tiers on the given ports, the run's key in `key_file`; ready when yielded."""
    command = [sys.executable, "-m", "ert_run", "--port", str(port), "--gpu-port", str(gpu_port)]
    process = subprocess.Popen(
        [*command, "--key-file", str(key_file)],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    run = Run(process)
    try:
        deadline = time.monotonic() + timeout
        while not any(READY in line for line in run.said):
            assert time.monotonic() < deadline and process.poll() is None, run.said
            run.said.append(process.stdout.readline())  # type: ignore[union-attr]
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
