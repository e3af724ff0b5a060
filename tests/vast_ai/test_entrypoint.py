"""Runs the real vast_ai/entrypoint.sh with stand-in `ollama` and `uvicorn` commands on PATH
(and the real Python, which checks the settings and makes the TLS certificate)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ert_run import free_port
from tests.fakes.live import serve
from tests.fakes.ollama import FakeOllama
from tests.vast_ai.conftest import report_body
from vast_ai.app import create_app
from vast_ai.settings import Settings
from vast_ai.tls import CERT_FILE, KEY_FILE, ensure_certificate, fingerprint

ENTRYPOINT = Path(__file__).resolve().parents[2] / "vast_ai" / "entrypoint.sh"
API_KEY = "ert-" + "k" * 32

# Logs its argv; `serve` answers /api/version and /api/generate on OLLAMA_HOST unless
# FAKE_SERVE says to crash or to stay silent; `list` prints FAKE_MODELS.
FAKE_OLLAMA = """\
import json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer

def log(entry):
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(json.dumps(entry) + "\\n")

log(["ollama", *sys.argv[1:]])
cmd = sys.argv[1]
if cmd == "serve":
    threading.Timer(30, os._exit, args=(0,)).start()  # never outlive a test
    mode = os.environ.get("FAKE_SERVE", "ok")
    if mode == "crash":
        os._exit(3)
    if mode == "silent":
        time.sleep(30)
    host, port = os.environ["OLLAMA_HOST"].rsplit(":", 1)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/api/version":
                self._reply({"version": "0.0.0-test"})
            else:
                self.send_error(404)

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            log(["POST", self.path, json.loads(body)])
            self._reply({"done": True})

        def log_message(self, *args):
            pass

    HTTPServer((host, int(port)), Handler).serve_forever()
elif cmd == "list":
    print("NAME            ID              SIZE     MODIFIED")
    for name in os.environ.get("FAKE_MODELS", "").split():
        print(f"{name}    aa70578ac519    13 GB    2 days ago")
"""

FAKE_UVICORN = """\
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps(["uvicorn", os.getpid(), *sys.argv[1:]]) + "\\n")
"""


@dataclass
class Run:
    returncode: int
    pid: int
    output: str
    calls: list[list]
    seconds: float
    group_outlived: bool  # some process it started was still running after it ended

    def commands(self, name: str) -> list[list]:
        return [c[1:] for c in self.calls if c[0] == name]


def _group_gone(pgid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def run_entrypoint(tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, source in (("ollama", FAKE_OLLAMA), ("uvicorn", FAKE_UVICORN)):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\n{source}")
        script.chmod(0o755)
    # The real Python with the GPU tier installed, as the image's virtual environment has it.
    python = bin_dir / "python3"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    log_file = tmp_path / "calls.jsonl"
    out_file = tmp_path / "output.txt"

    def run(
        stop_once_ollama_runs: bool = False,
        stop_after: float | None = None,
        **env_overrides: str | None,
    ) -> Run:
        env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_LOG": str(log_file),
            "OLLAMA_HOST": f"127.0.0.1:{free_port()}",
            "ERT_API_KEY": API_KEY,
            "ERT_READY_TIMEOUT": "10",
            "ERT_TLS_DIR": str(tmp_path / "tls"),
        }
        env.update({k: v for k, v in env_overrides.items() if v is not None})
        for key in [k for k, v in env_overrides.items() if v is None]:
            env.pop(key, None)
        log_file.unlink(missing_ok=True)  # the calls of this run only
        stopped = stop_once_ollama_runs or stop_after is not None
        started = time.monotonic()
        with out_file.open("w") as out:
            # Own process group: the background `ollama serve` stand-in is killed with it.
            proc = subprocess.Popen(
                ["bash", str(ENTRYPOINT)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                if stop_once_ollama_runs:
                    deadline = time.monotonic() + 20
                    while '["ollama", "serve"]' not in (
                        log_file.read_text() if log_file.exists() else ""
                    ):
                        assert time.monotonic() < deadline, "ollama serve never started"
                        time.sleep(0.05)
                    time.sleep(0.5)
                if stopped:
                    time.sleep(stop_after or 0)
                    proc.terminate()
                returncode = proc.wait(timeout=30)
                outlived = not _group_gone(proc.pid, within=2.0 if stopped else 0.0)
            finally:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        calls = (
            [json.loads(line) for line in log_file.read_text().splitlines()]
            if log_file.exists()
            else []
        )
        return Run(
            returncode,
            proc.pid,
            out_file.read_text(),
            calls,
            time.monotonic() - started,
            outlived,
        )

    return run


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "ERT_API_KEY is not set"),
        ("", "ERT_API_KEY is not set"),
        (API_KEY + "\n", "ERT_API_KEY has spaces or a line break around it"),
        ("ert-short-key", "ERT_API_KEY is shorter than the 36 characters"),
    ],
)
def test_refuses_to_start_without_a_usable_api_key(run_entrypoint, key, reason) -> None:
    result = run_entrypoint(ERT_API_KEY=key)
    assert result.returncode != 0
    assert reason in result.output
    assert "Traceback" not in result.output
    assert result.calls == []  # neither ollama nor uvicorn was started
    assert not key or key.strip() not in result.output


def test_refuses_a_timeout_that_is_not_whole_seconds(run_entrypoint) -> None:
    result = run_entrypoint(ERT_READY_TIMEOUT="soon")
    assert result.returncode != 0
    assert "ERT_READY_TIMEOUT must be a whole number" in result.output
    assert result.calls == []


def test_refuses_a_context_length_that_is_not_whole_tokens(run_entrypoint) -> None:
    result = run_entrypoint(OLLAMA_CONTEXT_LENGTH="8k")
    assert result.returncode != 0
    assert "OLLAMA_CONTEXT_LENGTH" in result.output
    assert result.calls == []


def _tls_args(folder: Path) -> list[str]:
    return ["--ssl-certfile", str(folder / CERT_FILE), "--ssl-keyfile", str(folder / KEY_FILE)]


def test_model_present_skips_pull_warms_and_execs_uvicorn(run_entrypoint, tmp_path) -> None:
    result = run_entrypoint(FAKE_MODELS="llama3.1:8b gpt-oss:20b")
    assert result.returncode == 0, result.output
    assert ["serve"] in result.commands("ollama")
    assert ["list"] in result.commands("ollama")
    assert not [c for c in result.commands("ollama") if c[0] == "pull"]
    warm = result.commands("POST")
    assert warm == [
        [
            "/api/generate",
            {
                "model": "gpt-oss:20b",
                "prompt": "",
                "keep_alive": "24h",
                "options": {"num_ctx": 8192},
            },
        ]
    ]
    # exec: uvicorn runs in the entrypoint's own process, with the default bind, over TLS.
    bind = ["--host", "0.0.0.0", "--port", "8000"]
    assert result.commands("uvicorn") == [
        [result.pid, "vast_ai.app:app", *bind, *_tls_args(tmp_path / "tls")]
    ]
    assert API_KEY not in result.output


def test_the_certificate_is_made_on_first_start_and_kept(run_entrypoint, tmp_path) -> None:
    first = run_entrypoint(FAKE_MODELS="gpt-oss:20b")
    pin = fingerprint((tmp_path / "tls" / CERT_FILE).read_text())
    second = run_entrypoint(FAKE_MODELS="gpt-oss:20b")

    assert first.returncode == second.returncode == 0, first.output + second.output
    assert "made a new TLS certificate" in first.output
    assert "kept the TLS certificate" in second.output
    for run in (first, second):  # the line to copy into the dashboard, on every start
        assert f"[entrypoint]   ERT_LLM_TLS_FINGERPRINT={pin}\n" in run.output
        assert "starting the API on https://0.0.0.0:8000" in run.output


def test_on_vast_ai_the_public_url_is_printed_too(run_entrypoint) -> None:
    result = run_entrypoint(
        FAKE_MODELS="gpt-oss:20b",
        PORT="8443",
        PUBLIC_IPADDR="203.0.113.7",
        VAST_TCP_PORT_8443="41234",
        VAST_TCP_PORT_8000="1",  # another port's mapping
    )
    assert result.returncode == 0, result.output
    assert "[entrypoint]   ERT_LLM_BACKEND_URL=https://203.0.113.7:41234\n" in result.output


def test_a_folder_that_cannot_hold_the_certificate_stops_the_start(
    run_entrypoint, tmp_path
) -> None:
    (tmp_path / "file").write_text("")
    result = run_entrypoint(FAKE_MODELS="gpt-oss:20b", ERT_TLS_DIR=str(tmp_path / "file" / "tls"))
    assert result.returncode != 0
    assert "TLS: cannot use " in result.output and "ERT_TLS_DIR" in result.output
    assert "cannot serve HTTPS without its certificate" in result.output
    assert result.calls == []  # stopped before Ollama started


def test_plain_http_is_served_on_loopback_only(run_entrypoint, tmp_path) -> None:
    local = run_entrypoint(FAKE_MODELS="gpt-oss:20b", ERT_TLS="false", HOST="127.0.0.1")
    public = run_entrypoint(FAKE_MODELS="gpt-oss:20b", ERT_TLS="false")
    unknown = run_entrypoint(FAKE_MODELS="gpt-oss:20b", ERT_TLS="yes")

    assert local.returncode == 0, local.output
    assert local.commands("uvicorn")[0][1:] == [
        "vast_ai.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
    ]
    assert "starting the API on http://127.0.0.1:8000" in local.output
    assert "ERT_LLM_TLS_FINGERPRINT" not in local.output
    assert not (tmp_path / "tls").exists()
    assert (
        public.returncode != 0 and "plain HTTP is served on a loopback HOST only" in public.output
    )
    assert unknown.returncode != 0 and "ERT_TLS must be true or false" in unknown.output
    assert public.commands("ollama") == unknown.commands("ollama") == []


def test_model_missing_is_pulled_once(run_entrypoint, tmp_path) -> None:
    result = run_entrypoint(
        FAKE_MODELS="llama3.1:8b gpt-oss:120b",
        OLLAMA_MODEL="mistral",
        OLLAMA_KEEP_ALIVE="1h",
        HOST="127.0.0.1",
        PORT="9001",
    )
    assert result.returncode == 0, result.output
    assert [c for c in result.commands("ollama") if c[0] == "pull"] == [["pull", "mistral"]]
    assert result.commands("POST")[0][1]["keep_alive"] == "1h"
    assert result.commands("uvicorn")[0][1:] == [
        "vast_ai.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        "9001",
        *_tls_args(tmp_path / "tls"),
    ]


def test_untagged_model_matches_its_latest_tag(run_entrypoint) -> None:
    result = run_entrypoint(FAKE_MODELS="mistral:latest", OLLAMA_MODEL="mistral")
    assert result.returncode == 0, result.output
    assert not [c for c in result.commands("ollama") if c[0] == "pull"]


def test_server_never_answering_fails_after_the_bound(run_entrypoint) -> None:
    result = run_entrypoint(FAKE_SERVE="silent", ERT_READY_TIMEOUT="1")
    assert result.returncode != 0
    assert "did not answer" in result.output and "within 1s" in result.output
    assert result.seconds < 8
    assert result.commands("uvicorn") == []


def test_ollama_dying_fails_fast(run_entrypoint) -> None:
    result = run_entrypoint(FAKE_SERVE="crash", ERT_READY_TIMEOUT="60")
    assert result.returncode != 0
    assert "exited before answering" in result.output
    assert result.seconds < 10
    assert result.commands("uvicorn") == []


def test_stop_request_during_start_up_ends_ollama_too(run_entrypoint) -> None:
    result = run_entrypoint(stop_once_ollama_runs=True, FAKE_SERVE="silent", ERT_READY_TIMEOUT="60")
    assert result.returncode == 143
    assert "stopping" in result.output
    assert ["serve"] in result.commands("ollama")
    assert not result.group_outlived
    assert result.seconds < 8


def test_stop_request_during_the_checks_ends_the_start_cleanly(run_entrypoint) -> None:
    result = run_entrypoint(stop_after=0.05, FAKE_SERVE="silent", ERT_READY_TIMEOUT="60")
    assert result.returncode == 143
    assert "stopping" in result.output
    assert not result.group_outlived


# --- the image that runs it ----------------------------------------------------------------

DOCKERFILE = ENTRYPOINT.parent / "Dockerfile"


def _dockerfile_env() -> dict[str, str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r"(\w+)=(\S+)", line))
    return env


def test_image_runs_this_entrypoint_instead_of_ollama() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    (base,) = [line for line in lines if line.startswith("FROM ")]
    assert re.fullmatch(r"FROM ollama/ollama:\d+\.\d+\.\d+", base)  # a pinned release
    assert 'ENTRYPOINT ["/app/vast_ai/entrypoint.sh"]' in lines
    assert "COPY vast_ai/ /app/vast_ai/" in lines
    assert "CMD []" in lines  # the base image's CMD ["serve"] must not reach uvicorn
    assert "USER ert" in lines


def test_image_defaults_keep_concurrency_in_step_with_ollama() -> None:
    env = _dockerfile_env()
    assert env["ERT_MAX_CONCURRENCY"] == env["OLLAMA_NUM_PARALLEL"]
    assert env["OLLAMA_MODEL"] == "gpt-oss:20b"
    assert env["OLLAMA_HOST"].startswith("http://127.0.0.1:")  # Ollama itself is not exposed
    assert f"EXPOSE {env['PORT']}" in DOCKERFILE.read_text()


def test_image_serves_tls_by_default_from_a_folder_it_owns() -> None:
    env = _dockerfile_env()
    assert env["ERT_TLS"] == "true"
    assert f"install -d -m 0700 -o ert -g ert {env['ERT_TLS_DIR']}" in DOCKERFILE.read_text()
    requirements = (ENTRYPOINT.parent / "requirements.txt").read_text()
    assert re.search(r"^cryptography>=\d+,<\d+$", requirements, re.MULTILINE)


def _healthcheck() -> str:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if line.startswith("HEALTHCHECK ")]
    return line.partition(" CMD ")[2]


@pytest.mark.parametrize("tls", ["true", "false"])
def test_image_healthcheck_answers_over_the_scheme_served(tmp_path, make_settings, tls) -> None:
    """The image's HEALTHCHECK command, run by /bin/sh as Docker runs it, against the API on
    uvicorn: over HTTPS it trusts the server's own certificate; plain HTTP when ERT_TLS=false."""
    ensure_certificate(tmp_path)
    served = {"ssl_certfile": str(tmp_path / CERT_FILE), "ssl_keyfile": str(tmp_path / KEY_FILE)}
    with serve(create_app(make_settings()), **(served if tls == "true" else {})) as url:
        env = {
            "PATH": os.environ["PATH"],
            "ERT_TLS": tls,
            "ERT_TLS_DIR": str(tmp_path),
            "PORT": url.rsplit(":", 1)[1],
        }
        healthy = subprocess.run(["/bin/sh", "-c", _healthcheck()], env=env, timeout=30)
        other = tmp_path / "other"
        ensure_certificate(other)  # a certificate that is not the server's
        wrong = subprocess.run(
            ["/bin/sh", "-c", _healthcheck()],
            env={**env, "ERT_TLS_DIR": str(other)},
            capture_output=True,
            timeout=30,
        )

    assert healthy.returncode == 0
    assert wrong.returncode == (1 if tls == "true" else 0)


# --- the warm-up and the requests load the model alike ---------------------------------------


def test_warm_up_and_every_request_load_the_model_with_one_context_length(
    run_entrypoint, ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entrypoint warms the fake Ollama up, then the API writes a report against it:
    every request asks for the context length of the warm-up, so nothing is loaded again."""
    ollama.context_length = 2048  # the server's own default differs from ERT's setting
    result = run_entrypoint(
        FAKE_SERVE="silent",  # `ollama serve` stays idle: the fake Ollama answers instead
        FAKE_MODELS="gpt-oss:20b",
        OLLAMA_HOST=ollama.url,
        OLLAMA_CONTEXT_LENGTH="16384",
    )
    assert result.returncode == 0, result.output
    assert [load["path"] for load in ollama.loads] == ["/api/generate"]

    monkeypatch.setenv("OLLAMA_CONTEXT_LENGTH", "16384")  # as the image passes it to both
    app = create_app(Settings(ert_api_key=API_KEY, ollama_host=ollama.url))

    async def report() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ert.test") as client:
            response = await client.post(
                "/generate_report",
                headers={"Authorization": f"Bearer {API_KEY}"},
                json=report_body(),
            )
        await app.state.service.engine.close()
        return response.status_code

    assert asyncio.run(report()) == 200
    assert len(ollama.loads) == 1 + 7  # the warm-up, six sections and the rating
    assert {load["num_ctx"] for load in ollama.loads} == {16384}
    assert ollama.reloads == 0
