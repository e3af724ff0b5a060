"""Run `pip install ...` and show where it is, all the way through, on one line.

    .venv/bin/python scripts/pip_progress.py -r requirements-llama.txt

pip's own output goes to `.venv/install.log` (verbose: it includes the compiler's); the
terminal gets one status line, rewritten in place (a line every 30 s when the output is
not a terminal, as in CI): what is being collected, downloaded, compiled (llama.cpp's
build steps as n/N) or installed, and the time so far. If pip fails, the end of the log
is printed with the log's path. The arguments are pip install's.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

LOG = Path(".venv") / "install.log"
# What pip -v prints, read as the step it is at ({building}: the package being built).
STEPS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Collecting (\S+)"), "collecting {0}"),
    (re.compile(r"^\s*Downloading (\S+) \(([^)]+)\)"), "downloading {0} ({1})"),
    (re.compile(r"^\s*Building wheel for (\S+)"), "building {0}"),
    (re.compile(r"^\s*\[(\d+)/(\d+)\] "), "compiling {building}: step {0} of {1}"),  # ninja
    (re.compile(r"^\s*\[\s*(\d+)%\] "), "compiling {building}: {0}%"),  # make
    (re.compile(r"^Installing collected packages: (.*)"), "installing {0}"),
]
QUIET_INTERVAL = 30.0


class Progress:
    """The step pip is at, read from its verbose output line by line."""

    def __init__(self) -> None:
        self.step = "starting pip"
        self.building = "the package"

    def read(self, line: str) -> None:
        for pattern, template in STEPS:
            found = pattern.match(line)
            if found:
                if template.startswith("building"):
                    self.building = found.group(1)
                step = template.format(*found.groups(), building=self.building)
                self.step = step if len(step) <= 70 else step[:67] + "..."
                return


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def main(args: list[str]) -> int:
    tty = sys.stdout.isatty()
    command = [sys.executable, "-m", "pip", "install", "-v", *args]
    started = last_shown = time.monotonic()
    progress = Progress()
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            progress.read(line)
            now = time.monotonic()
            if tty and now - last_shown >= 0.25:
                print(f"\r\033[K  [{clock(now - started)}] {progress.step}", end="", flush=True)
                last_shown = now
            elif not tty and now - last_shown >= QUIET_INTERVAL:
                print(f"  [{clock(now - started)}] {progress.step}", flush=True)
                last_shown = now
        status = process.wait()
    took = clock(time.monotonic() - started)
    if tty:
        print("\r\033[K", end="")
    if status != 0:
        tail = LOG.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        print(f"  pip failed after {took}; the whole output is in {LOG}", file=sys.stderr)
        return status
    print(f"  done in {took}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
