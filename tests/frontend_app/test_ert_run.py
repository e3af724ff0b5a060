"""`make run` (python -m ert_run): engine choice, environments, start and a clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from ert_run import ROOT, dashboard_env, free_port, gpu_tier_env


def test_the_gpu_tier_uses_ollama_when_one_answers(ollama) -> None:
    env = gpu_tier_env("ert-k", {"OLLAMA_HOST": ollama.url})
    assert env["ERT_ENGINE"] == "ollama" and env["ERT_API_KEY"] == "ert-k"
    assert "OLLAMA_MODEL" not in env


def test_without_ollama_the_gpu_tier_uses_the_bundled_gemma(down_url) -> None:
    env = gpu_tier_env("ert-k", {"OLLAMA_HOST": down_url})
    assert env["ERT_ENGINE"] == "llamacpp"
    assert env["OLLAMA_MODEL"] == env["ERT_ALLOWED_MODELS"] == "gemma3:270m"


def test_the_dashboard_talks_to_the_gpu_tier_with_the_same_key() -> None:
    env = dashboard_env("ert-k", "http://127.0.0.1:8001", {"ERT_DATA_SOURCE": "snapshot"})
    assert env["REMOTE_LLM_INTEGRATION"] == "true"
    assert env["ERT_LLM_BACKEND_URL"] == "http://127.0.0.1:8001"
    assert env["ERT_LLM_API_KEY"] == "ert-k" and env["ERT_DATA_SOURCE"] == "snapshot"
    assert env["SECRET_KEY"]


def test_run_starts_both_tiers_prints_the_url_and_ctrl_c_stops_both(ollama, tmp_path) -> None:
    port, gpu_port = free_port(), free_port()
    chosen_key = "ert-" + "k" * 32  # a key of the user's: the GPU tier must accept it
    env = {
        **os.environ,
        "ERT_API_KEY": chosen_key,
        "OLLAMA_HOST": ollama.url,
        "ERT_DATA_SOURCE": "snapshot",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "ert_run", "--port", str(port), "--gpu-port", str(gpu_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while not any("running: open" in line for line in lines):
            assert time.monotonic() < deadline and run.poll() is None, lines
            lines.append(run.stdout.readline())
        assert f"http://127.0.0.1:{port}" in lines[-1]
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
        assert health["backend"]["remote"]["status"] == "healthy"
        assert health["backend"]["remote"]["engine"] == "ollama"
        models = httpx.get(
            f"http://127.0.0.1:{gpu_port}/models",
            headers={"Authorization": f"Bearer {chosen_key}"},
        )
        assert models.status_code == 200
        run.send_signal(signal.SIGINT)
        assert run.wait(30) == 0
    finally:
        if run.poll() is None:
            run.kill()
    output = "".join(lines) + run.stdout.read()
    assert "stopped" in output
    assert re.search(r"API key for this run ert-\S{4}…", output)
    assert not re.search(r"ert-[A-Za-z0-9_-]{32}", output)  # never the whole key
    for url in (f"http://127.0.0.1:{port}/health", f"http://127.0.0.1:{gpu_port}/health"):
        try:
            httpx.get(url, timeout=1)
            raise AssertionError(f"{url} still answers")
        except httpx.TransportError:
            pass
