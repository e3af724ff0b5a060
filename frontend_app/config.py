"""The dashboard's settings: environment variables read once into a typed object.

Every variable the dashboard reads is listed in `ENV_DEFAULTS` with its default, so
the README, render.yaml and the tests can check against one list.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

DataSource = Literal["auto", "yfinance", "snapshot"]

# Variable -> default ("" means unset). The order is the README's.
ENV_DEFAULTS: dict[str, str] = {
    "REMOTE_LLM_INTEGRATION": "true",
    "ERT_LLM_BACKEND_URL": "http://127.0.0.1:8001",
    "ERT_LLM_API_KEY": "",
    "ERT_LLM_TIMEOUT": "120",
    "OLLAMA_INTEGRATION": "false",
    "OLLAMA_HOST": "http://127.0.0.1:11434",
    "OPENAI_INTEGRATION": "false",
    "OPENAI_BASE_URL": "https://api.openai.com/v1",
    "OPENAI_API_KEY": "",
    "OPENAI_MODEL": "gpt-4o-mini",
    "ERT_MODELS": "gpt-oss:20b,llama3.1:8b,mistral:7b",
    "SECRET_KEY": "",
    "DATABASE_URL": "",
    "ERT_DATA_SOURCE": "auto",
    "ERT_MAX_CONCURRENT_REPORTS": "4",
    "GPU_HOURLY_COST": "0.40",
    "API_PRICE_PER_MILLION_TOKENS": "0.60",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting has a value the dashboard cannot use; the message names it."""


def _bool(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, ENV_DEFAULTS[name]).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _number(env: Mapping[str, str], name: str, *, minimum: float) -> float:
    raw = env.get(name, ENV_DEFAULTS[name]).strip() or ENV_DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def _text(env: Mapping[str, str], name: str) -> str:
    return env.get(name, ENV_DEFAULTS[name]).strip()


def normalise_database_url(url: str) -> str:
    """Point postgres URLs (Render gives `postgres://`) at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    remote_llm_integration: bool = True
    llm_backend_url: str = ENV_DEFAULTS["ERT_LLM_BACKEND_URL"]
    llm_api_key: str = field(default="", repr=False)
    llm_timeout: float = 120.0
    ollama_integration: bool = False
    ollama_host: str = ENV_DEFAULTS["OLLAMA_HOST"]
    openai_integration: bool = False
    openai_base_url: str = ENV_DEFAULTS["OPENAI_BASE_URL"]
    openai_api_key: str = field(default="", repr=False)
    openai_model: str = ENV_DEFAULTS["OPENAI_MODEL"]
    models: tuple[str, ...] = ("gpt-oss:20b", "llama3.1:8b", "mistral:7b")
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    # Empty means the SQLite file instance/ert.sqlite3, resolved by the app factory.
    database_url: str = ""
    data_source: DataSource = "auto"
    max_concurrent_reports: int = 4
    gpu_hourly_cost: float = 0.40
    api_price_per_million_tokens: float = 0.60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        data_source = _text(env, "ERT_DATA_SOURCE").lower() or "auto"
        if data_source not in ("auto", "yfinance", "snapshot"):
            raise ConfigError(
                f"ERT_DATA_SOURCE must be auto, yfinance or snapshot, not {data_source!r}"
            )
        models = tuple(m.strip() for m in _text(env, "ERT_MODELS").split(",") if m.strip())
        if not models:
            raise ConfigError("ERT_MODELS must name at least one model")
        return cls(
            remote_llm_integration=_bool(env, "REMOTE_LLM_INTEGRATION"),
            llm_backend_url=_text(env, "ERT_LLM_BACKEND_URL").rstrip("/"),
            llm_api_key=_text(env, "ERT_LLM_API_KEY"),
            llm_timeout=_number(env, "ERT_LLM_TIMEOUT", minimum=1),
            ollama_integration=_bool(env, "OLLAMA_INTEGRATION"),
            ollama_host=_text(env, "OLLAMA_HOST").rstrip("/"),
            openai_integration=_bool(env, "OPENAI_INTEGRATION"),
            openai_base_url=_text(env, "OPENAI_BASE_URL").rstrip("/"),
            openai_api_key=_text(env, "OPENAI_API_KEY"),
            openai_model=_text(env, "OPENAI_MODEL"),
            models=models,
            secret_key=_text(env, "SECRET_KEY") or secrets.token_hex(32),
            database_url=normalise_database_url(_text(env, "DATABASE_URL")),
            data_source=data_source,  # type: ignore[arg-type]
            max_concurrent_reports=int(_number(env, "ERT_MAX_CONCURRENT_REPORTS", minimum=1)),
            gpu_hourly_cost=_number(env, "GPU_HOURLY_COST", minimum=0),
            api_price_per_million_tokens=_number(env, "API_PRICE_PER_MILLION_TOKENS", minimum=0),
        )
