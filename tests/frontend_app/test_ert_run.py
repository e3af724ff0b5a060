"""`make run` (python -m ert_run): engine choice, environments, what it says, the key for curl,
and a clean Ctrl-C."""

from __future__ import annotations

import os
import re
import stat

import httpx

from ert_run import dashboard_env, engine_lines, free_port, gpu_tier_env, offline_line
from tests.make_run import make_run


def test_the_gpu_tier_uses_ollama_when_one_answers(ollama) -> None:
    env = gpu_tier_env("ert-k", {"OLLAMA_HOST": ollama.url})
    assert env["ERT_ENGINE"] == "ollama" and env["ERT_API_KEY"] == "ert-k"
    assert "OLLAMA_MODEL" not in env


def test_without_ollama_the_gpu_tier_uses_the_bundled_gemma(down_url) -> None:
    env = gpu_tier_env("ert-k", {"OLLAMA_HOST": down_url})
    assert env["ERT_ENGINE"] == "llamacpp"
    assert env["OLLAMA_MODEL"] == env["ERT_ALLOWED_MODELS"] == "gemma3:270m"
    assert float(env["ERT_GENERATION_TIMEOUT"]) > 300  # a CPU takes minutes, not seconds


def test_the_dashboard_talks_to_the_gpu_tier_with_the_same_key() -> None:
    env = dashboard_env("ert-k", "http://127.0.0.1:8001", {"ERT_DATA_SOURCE": "snapshot"})
    assert env["REMOTE_LLM_INTEGRATION"] == "true"
    assert env["ERT_LLM_BACKEND_URL"] == "http://127.0.0.1:8001"
    assert env["ERT_LLM_API_KEY"] == "ert-k" and env["ERT_DATA_SOURCE"] == "snapshot"
    assert env["SECRET_KEY"]


def test_run_starts_both_tiers_says_what_works_and_ctrl_c_stops_both(ollama, tmp_path) -> None:
    port, gpu_port = free_port(), free_port()
    key_file = tmp_path / "instance" / "gpu-tier.key"
    chosen_key = "ert-" + "k" * 32  # a key of the user's: the GPU tier must accept it
    env = {
        **os.environ,
        "ERT_API_KEY": chosen_key,
        "OLLAMA_HOST": ollama.url,
        "ERT_DATA_SOURCE": "snapshot",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
    }
    with make_run(env, port, gpu_port, key_file, timeout=90) as run:
        ready = "".join(run.said)
        assert re.search(rf"ERT: ready in \d+ s: open http://127\.0\.0\.1:{port}\n", ready)
        assert "bundled companies only (ERT_DATA_SOURCE=snapshot): AAPL, ABBV," in ready
        assert f"the Ollama at {ollama.url}" in ready
        assert f"key for this run is in {key_file}" in ready
        assert key_file.read_text() == chosen_key + "\n"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).json()
        assert health["backend"]["remote"]["status"] == "healthy"
        assert health["backend"]["remote"]["engine"] == "ollama"
        models = httpx.get(
            f"http://127.0.0.1:{gpu_port}/models",
            timeout=30,
            headers={"Authorization": f"Bearer {key_file.read_text().strip()}"},
        )
        assert models.status_code == 200
        assert run.stop() == 0
        output = ready + run.process.stdout.read()
    assert "stopped" in output
    assert not key_file.exists()  # the key leaves with the run
    assert re.search(r"API key for this run ert-\S{4}…", output)
    assert not re.search(r"ert-[A-Za-z0-9_-]{32}", output)  # never the whole key
    for url in (f"http://127.0.0.1:{port}/health", f"http://127.0.0.1:{gpu_port}/health"):
        try:
            httpx.get(url, timeout=1)
            raise AssertionError(f"{url} still answers")
        except httpx.TransportError:
            pass


def test_the_ready_lines_tell_a_newcomer_what_works_offline_and_how_to_get_a_real_model(
    down_url,
) -> None:
    said, real_model = engine_lines(gpu_tier_env("ert-k", {"OLLAMA_HOST": down_url}))
    assert "Gemma 3 270M on this CPU" in said
    assert "ollama pull llama3.1:8b" in real_model and "vast_ai/README.md" in real_model
    offline = offline_line({"ERT_DATA_SOURCE": "auto"})
    assert offline.endswith("AAPL, ABBV, BABA, BFLY, CRM, CRON, EPAC, OCDO.L, ORSTED.CO, SPOT")
