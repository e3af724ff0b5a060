"""The dashboard's settings, read once from the environment (names as in DESIGN.md).

Field names are the environment variable names in lower case, as in the GPU tier's
vast_ai/settings.py: `Settings(ollama_host=...)` in a test and `OLLAMA_HOST=...` on
Render mean the same thing. Each default is stated here once; an empty variable
counts as unset.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from vast_ai.tls import parse_fingerprint

from .market import DataSource

# How a person is told what is wrong, by pydantic's error type (never the value itself).
_PROBLEMS = {
    "bool_parsing": "must be true or false",
    "float_parsing": "must be a number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "greater_than_equal": "must be at least {ge}",
}


# ERT_SHUTDOWN_GRACE's default; gunicorn.conf.py, which imports nothing of the app, repeats it.
SHUTDOWN_GRACE = 100.0


class ConfigError(ValueError):
    """A setting has a value the dashboard cannot use; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", env_ignore_empty=True, str_strip_whitespace=True
    )

    remote_llm_integration: bool = True
    ert_llm_backend_url: str = "http://127.0.0.1:8001"
    ert_llm_api_key: SecretStr = SecretStr("")
    # Seconds the GPU tier (or a direct engine) may stay silent.
    ert_llm_timeout: float = Field(default=120.0, ge=1)
    ollama_integration: bool = False
    ollama_host: str = "http://127.0.0.1:11434"
    openai_integration: bool = False
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr = SecretStr("")
    openai_model: str = "gpt-4o-mini"
    # The model picker's choices when the GPU tier cannot list its own; the first is the default.
    ert_models: Annotated[tuple[str, ...], NoDecode] = ("gpt-oss:20b", "llama3.1:8b", "mistral:7b")
    secret_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_hex(32)))
    # None: the SQLite file instance/ert.sqlite3, in the app's instance folder.
    database_url: str | None = None
    ert_data_source: DataSource = "auto"
    ert_max_concurrent_reports: int = Field(default=4, ge=1)
    gpu_hourly_cost: float = Field(default=0.40, ge=0)
    api_price_per_million_tokens: float = Field(default=0.60, ge=0)

    # Safe to expose: the pinned link to the GPU tier, sign-in and limits (README: "Sign-in").
    # The GPU tier's certificate (https:// ERT_LLM_BACKEND_URL only); None: the usual CAs.
    ert_llm_tls_fingerprint: str | None = None
    # Set by Render: the dashboard is on the internet.
    render: bool = False
    # Where the server listens, set by gunicorn.conf.py from --bind; empty when not serving.
    ert_bind: Annotated[tuple[str, ...], NoDecode] = ()
    # An account made (or its password set) at start, for a first sign-in on Render.
    ert_admin_email: str | None = None
    ert_admin_password: SecretStr | None = Field(default=None, validate_default=True)
    # Reports one account, and one address, may ask for (the limits library's notation).
    ert_reports_per_user: str = "5/minute;30/hour"
    ert_reports_per_address: str = "10/minute;60/hour"
    # Reports that may wait for a slot: per account, and in all; past that, "try again in N".
    ert_max_waiting_per_user: int = Field(default=2, ge=1)
    ert_max_queue: int = Field(default=20, ge=0)
    # Where the rate limits count (memory://, or redis://... shared by several instances).
    ert_ratelimit_storage_uri: str = "memory://"
    # Seconds running reports may take to finish after SIGTERM (below Render's
    # maxShutdownDelaySeconds; gunicorn.conf.py reads it too, for gunicorn's own timeout).
    ert_shutdown_grace: float = Field(default=SHUTDOWN_GRACE, ge=0)
    # Hours a finished job (its progress and text as they streamed) is kept; reports stay.
    ert_job_retention_hours: float = Field(default=24.0, ge=0)

    @field_validator("ert_llm_backend_url", "ollama_host", "openai_base_url")
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @field_validator("ert_llm_backend_url")
    @classmethod
    def _private(cls, url: str, info: ValidationInfo) -> str:
        """The key and the reports never cross a network in clear."""
        host = urlsplit(url).hostname or ""
        clear = url.startswith("http://") and not is_loopback(host)
        if clear and info.data.get("remote_llm_integration"):
            raise ValueError(
                "must be https:// (the key and the reports would cross the network in "
                "clear); http:// is for the GPU tier on this machine only"
            )
        return url

    @field_validator("ert_llm_tls_fingerprint")
    @classmethod
    def _fingerprint(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is None:
            return None
        if not str(info.data.get("ert_llm_backend_url", "")).startswith("https://"):
            raise ValueError("needs an https:// ERT_LLM_BACKEND_URL")
        return parse_fingerprint(text)

    @field_validator("ert_reports_per_user", "ert_reports_per_address")
    @classmethod
    def _rate_limits(cls, text: str) -> str:
        try:
            parse_many(text)
        except ValueError:
            raise ValueError("must be rate limits such as 5/minute;30/hour") from None
        return text

    @field_validator("ert_bind", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("ert_admin_password")
    @classmethod
    def _with_email(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if (password is None) == bool(info.data.get("ert_admin_email")):
            raise ValueError("and ERT_ADMIN_EMAIL go together: set both or neither")
        return password

    @property
    def reachable(self) -> bool:
        """Whether other machines can reach the dashboard: on Render, or listening on any
        address but loopback (a Unix socket counts: a proxy may publish it)."""
        return self.render or not all(is_loopback(_host(bind)) for bind in self.ert_bind)

    @field_validator("ert_models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(name.strip() for name in value.split(",") if name.strip())
            if not value:
                raise ValueError("must name at least one model")
        return value

    @field_validator("ert_data_source", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _psycopg3(cls, url: str | None) -> str | None:
        """Point postgres URLs (Render gives `postgres://`) at the psycopg 3 driver."""
        for prefix in ("postgres://", "postgresql://"):
            if url is not None and url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        return url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read `env` (default: the process environment), or raise ConfigError naming what
        is wrong. A mapping is read alone, without the process environment."""
        try:
            if env is None:
                return cls()
            return cls.model_validate({name.lower(): value for name, value in env.items() if value})
        except ValidationError as exc:
            problems = [_problem(error) for error in exc.errors(include_input=False)]
            raise ConfigError("; ".join(problems)) from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(bind: str) -> str:
    """The host of a gunicorn bind ("0.0.0.0:8000", "[::1]:5000"); "" for unix: and fd://."""
    if bind.startswith(("unix:", "fd://")):
        return ""
    return urlsplit(f"//{bind}").hostname or ""


def _problem(error: Any) -> str:
    name = str(error["loc"][0]).upper() if error["loc"] else "settings"
    template = _PROBLEMS.get(error["type"])
    if template is not None:
        return f"{name} " + template.format(**error.get("ctx", {}))
    message = str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "must be")
    return f"{name} {message}"
