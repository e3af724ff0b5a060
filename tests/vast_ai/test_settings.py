"""Settings come from the environment; without ERT_API_KEY the service will not start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.vast_ai.conftest import API_KEY
from vast_ai.api_key import KEY_LENGTH, generate_api_key
from vast_ai.engines import build_engine
from vast_ai.engines.data_only import DataOnlyEngine
from vast_ai.engines.ollama_engine import OllamaEngine
from vast_ai.engines.openai_engine import OpenAIEngine
from vast_ai.settings import Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("ERT_", "OLLAMA_", "OPENAI_")) or name in ("HOST", "PORT"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_match_the_design(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ERT_API_KEY", API_KEY)
    settings = load_settings()

    assert settings.ert_api_key.get_secret_value() == API_KEY
    assert settings.ollama_host == "http://127.0.0.1:11434"
    assert settings.ollama_model == "gpt-oss:20b"
    assert settings.ert_allowed_models == ["gpt-oss:20b", "llama3.1:8b", "mistral:7b"]
    assert settings.ert_engine == "ollama"
    assert settings.ert_grounding_threshold == 0.2
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    assert settings.ert_body_timeout == 30.0
    assert API_KEY not in repr(settings)


def test_environment_overrides(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "ERT_API_KEY": API_KEY,
        "OLLAMA_MODEL": "llama3.1:8b",
        "ERT_ALLOWED_MODELS": " mistral:7b ,, qwen3:8b ",
        "ERT_MAX_CONCURRENCY": "2",
        "ERT_MAX_QUEUE": "0",
        "ERT_GENERATION_TIMEOUT": "45.5",
        "PORT": "9000",
        "ERT_BODY_TIMEOUT": "2.5",
    }.items():
        clean_env.setenv(name, value)
    settings = load_settings()

    assert settings.ert_allowed_models == ["mistral:7b", "qwen3:8b"]
    assert settings.allowed_ollama_models() == ["llama3.1:8b", "mistral:7b", "qwen3:8b"]
    assert (settings.ert_max_concurrency, settings.ert_max_queue) == (2, 0)
    assert settings.ert_generation_timeout == 45.5 and settings.port == 9000
    assert settings.ert_body_timeout == 2.5


@pytest.mark.parametrize("value", [None, ""])
def test_missing_api_key_is_a_clear_refusal(
    clean_env: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        clean_env.setenv("ERT_API_KEY", value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "ERT_API_KEY is not set: generate a key with `python generate_api_key.py`" in str(
        refused.value
    )


KEY = generate_api_key()
UNUSABLE_KEYS = {
    "blank": ("   ", "has spaces or a line break around it"),
    "trailing newline": (KEY + "\n", "has spaces or a line break around it"),
    "leading space": (" " + KEY, "has spaces or a line break around it"),
    "trailing tab": (KEY + "\t", "has spaces or a line break around it"),
    "short": (KEY[:-1], f"is shorter than the {KEY_LENGTH} characters"),
    "a word": ("secret", f"is shorter than the {KEY_LENGTH} characters"),
}


@pytest.mark.parametrize("case", list(UNUSABLE_KEYS))
def test_unusable_key_is_refused_by_name_never_by_value(
    clean_env: pytest.MonkeyPatch, case: str
) -> None:
    key, reason = UNUSABLE_KEYS[case]
    clean_env.setenv("ERT_API_KEY", key)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("ERT cannot start: ERT_API_KEY ") and reason in message
    if key.strip():
        assert key.strip() not in message


def test_a_generated_key_is_accepted_and_keys_in_code_are_checked_too() -> None:
    assert len(KEY) == KEY_LENGTH
    assert Settings(ert_api_key=KEY).ert_api_key.get_secret_value() == KEY
    with pytest.raises(ValueError, match="shorter than"):
        Settings(ert_api_key="k")


def test_bad_values_are_named_without_echoing_them(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ERT_API_KEY", API_KEY)
    clean_env.setenv("ERT_MAX_CONCURRENCY", "0")
    clean_env.setenv("ERT_ENGINE", "gpt4all-secret-value")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert "ERT_MAX_CONCURRENCY" in message and "ERT_ENGINE" in message
    assert "gpt4all-secret-value" not in message


def test_uvicorn_target_without_key_exits_with_the_message() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ERT_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import vast_ai.app as m; m.app"],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "ERT_API_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_engine_follows_ert_engine() -> None:
    def make(engine: str) -> Settings:
        return Settings(ert_api_key=API_KEY, ert_engine=engine)  # type: ignore[arg-type]

    assert isinstance(build_engine(make("ollama")), OllamaEngine)
    assert isinstance(build_engine(make("openai")), OpenAIEngine)
    assert isinstance(build_engine(make("data_only")), DataOnlyEngine)
    assert build_engine(make("llamacpp")).name == "llamacpp"
