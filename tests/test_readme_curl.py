"""The README's curl examples, taken from the README itself and run in order with bash, as
written, against a fresh `make run` (`python -m ert_run`, with a key of its own making).

The README cannot drift from what is tested: every ```bash block of its section "Calling
ERT with curl" runs, in one bash, from a folder holding the run's key where `make run`
keeps it (instance/gpu-tier.key). curl is made to fail on an HTTP error (4xx, 5xx) so that
a 401 or a 409 fails the test instead of printing an error body. The GPU tier writes with
the fake Ollama (as `make run` does when an Ollama answers), and Yahoo cannot be reached
(tests.fakes.yahoo.offline_env), so the offline example answers the same everywhere.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from ert_run import ROOT, free_port
from tests.fakes.ollama import FakeOllama, Reply, default_responder
from tests.fakes.yahoo import offline_env
from tests.make_run import make_run

README = ROOT / "README.md"
SECTION = "## Calling ERT with curl"
# Make any HTTP error fatal, as a person reading the answer would notice it.
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'
MARK = "=== example {} ==="


def json_values(printed: str) -> list[Any]:
    """The JSON objects in what a block printed, one per line or run together."""
    decoder, found, at = json.JSONDecoder(), [], printed.find("{")
    while at >= 0:
        try:
            value, end = decoder.raw_decode(printed, at)
        except json.JSONDecodeError:
            end = at + 1
        else:
            found.append(value)
        at = printed.find("{", end)
    return found


def readme_examples() -> list[str]:
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```bash\n(.*?)^```", section, flags=re.S | re.M)


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`make run`'s command with a key of its own, kept in `cwd`/instance/gpu-tier.key."""
    cwd = tmp_path_factory.mktemp("curl")
    port, gpu_port = free_port(), free_port()
    with FakeOllama() as ollama:
        # Slow enough that a report started is still running when it is cancelled.
        reply = Reply(text="Revenue reached $391.0B. " * 12, chunk_delay=0.05)
        ollama.responder = lambda body: default_responder(body) if body.get("format") else reply
        env = {
            **offline_env(os.environ),
            "OLLAMA_HOST": ollama.url,
            "DATABASE_URL": f"sqlite:///{cwd / 'ert.sqlite3'}",
        }
        env.pop("ERT_API_KEY", None)
        with make_run(env, port, gpu_port, cwd / "instance" / "gpu-tier.key"):
            yield {
                "cwd": cwd,
                "env": {
                    **os.environ,
                    "ERT": f"http://127.0.0.1:{port}",
                    "GPU": f"http://127.0.0.1:{gpu_port}",
                },
            }


def test_the_readme_curl_examples_run_as_written_in_order(fresh_run: dict[str, Any]) -> None:
    examples = readme_examples()
    assert len(examples) >= 5
    script = PRELUDE + "".join(
        f"echo; echo '{MARK.format(i)}'\n{example}" for i, example in enumerate(examples)
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=fresh_run["cwd"],
        env=fresh_run["env"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    printed = re.split(r"^=== example \d+ ===\n", done.stdout, flags=re.M)[1:]
    assert len(printed) == len(examples)
    said = dict(zip(examples, printed, strict=True))
    answers = [answer for out in printed for answer in json_values(out)]

    def answers_to(command: str) -> list[Any]:
        return next(json_values(out) for example, out in said.items() if command in example)

    # What each call prints, as the README says it does.
    health, models = answers_to("$GPU/health")[:2]
    assert health["status"] == "healthy" and models["models"]
    whole = [a for a in answers if a.get("success") is True and "sections" in a]
    assert whole and whole[0]["sections"]["executive_summary"]["status"] == "ok"
    events = [a["type"] for a in answers if "type" in a]
    assert events[0] == "started" and "token" in events and events[-1] == "done"
    states = [a.get("state") for a in answers]
    assert "completed" in states and "cancelled" in states
    failed = next(a for a in answers if a.get("state") == "failed")
    assert failed["ticker"] == "MSFT" and failed["error"]["code"] == "data_source_unreachable"
    assert [c["ticker"] for c in failed["error"]["alternatives"]][:2] == ["AAPL", "ABBV"]
    assert any("reports" in a and a["reports"] for a in answers)  # the history
    assert "# Apple Inc." in done.stdout or "Apple Inc." in done.stdout
