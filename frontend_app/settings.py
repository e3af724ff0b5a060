"""The dashboard's settings, read once from the environment (names as in DESIGN.md).

Field names are the environment variable names in lower case, as in the GPU tier's
vast_ai/settings.py: `Settings(ollama_host=...)` in a test and `OLLAMA_HOST=...` on
Render mean the same thing. Each default is stated here once; an empty variable
counts as unset.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Annotated, Any, NamedTuple
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from vast_ai.tls import parse_fingerprint

from .analysis.assumptions import (
    DEFAULT_SETTINGS,
    VALUATION_WEIGHTS,
    Rate,
    ValuationSettings,
)
from .market import DataSource

# How a person is told what is wrong, by pydantic's error type (never the value itself).
_PROBLEMS = {
    "bool_parsing": "must be true or false",
    "float_parsing": "must be a number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "date_from_datetime_parsing": "must be a date such as 2025-02-14",
    "date_parsing": "must be a date such as 2025-02-14",
}
# A rate a person sets: "4.3%" or the fraction 0.043; a bare number above this is a
# percentage missing its sign (a 45% risk-free rate is a typo), refused.
_MAX_BARE_FRACTION = 0.3


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

# ERT_SHUTDOWN_GRACE's default; gunicorn.conf.py, which imports nothing of the app, repeats it.
SHUTDOWN_GRACE = 100.0


class ConfigError(ValueError):
    """A setting has a value the dashboard cannot use; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", env_ignore_empty=True, str_strip_whitespace=True
    )

    remote_llm_integration: bool = True
    # One GPU tier's base URL, or several, comma-separated; their keys and fingerprints below
    # follow in the same order (one entry for every tier, or one per tier): see gpu_tiers.
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
    # Where the rate limits count; None: REDIS_URL when set, else memory:// (one process).
    ert_ratelimit_storage_uri: str | None = None
    # Seconds running reports may take to finish after SIGTERM (below Render's
    # maxShutdownDelaySeconds; gunicorn.conf.py reads it too, for gunicorn's own timeout).
    ert_shutdown_grace: float = Field(default=SHUTDOWN_GRACE, ge=0)
    # Hours a finished job (its progress and text as they streamed) is kept; reports stay.
    ert_job_retention_hours: float = Field(default=24.0, ge=0)

    # The valuation's market rates and choices (README: "Settings"); unset: the dated
    # defaults of analysis/assumptions.py. A rate set here needs its date.
    # "USD=4.3%,EUR=2.6%": these currencies' risk-free rates (the others keep the defaults).
    ert_risk_free_rates: Annotated[dict[str, float] | None, NoDecode] = None
    ert_risk_free_rates_as_of: date | None = Field(default=None, validate_default=True)
    ert_equity_risk_premium: Annotated[float | None, NoDecode] = None
    ert_equity_risk_premium_as_of: date | None = Field(default=None, validate_default=True)
    ert_terminal_growth: Annotated[float | None, NoDecode] = None
    ert_forecast_years: int | None = Field(default=None, ge=2, le=15)
    # "dcf=50,peers=30,history=20" (any scale: normalised).
    ert_valuation_weights: Annotated[dict[str, float] | None, NoDecode] = None

    # Past one machine (README: "Several instances"): the Redis the instances share for
    # Socket.IO, the market-data cache and the limits. None: one process, as `make run`.
    redis_url: SecretStr | None = None
    # Report workers write the reports (README: "Report workers"): the instances put report
    # jobs on a queue in REDIS_URL's Redis, `python -m frontend_app.worker` processes run them.
    ert_report_workers: bool = False

    @field_validator("ollama_host", "openai_base_url")
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @field_validator("ert_llm_backend_url")
    @classmethod
    def _tier_urls(cls, text: str, info: ValidationInfo) -> str:
        """Each GPU tier's URL: a URL, and private: the key and the reports never cross a
        network in clear. A bad entry is named by its place in the list."""
        urls = [url.rstrip("/") for url in entries(text)]
        if info.data.get("remote_llm_integration"):
            for place, url in enumerate(urls):
                problem = _tier_url_problem(url)
                if problem is not None:
                    raise ValueError(_entry(place, len(urls)) + problem)
        return ",".join(urls)

    @field_validator("ert_llm_api_key")
    @classmethod
    def _keys(cls, keys: SecretStr, info: ValidationInfo) -> SecretStr:
        _one_or_one_per_tier(keys.get_secret_value(), "keys", info)
        return keys

    @field_validator("ert_llm_tls_fingerprint")
    @classmethod
    def _fingerprint(cls, text: str | None, info: ValidationInfo) -> str | None:
        if text is None:
            return None
        pins = _one_or_one_per_tier(text, "fingerprints", info)
        urls = entries(str(info.data.get("ert_llm_backend_url", "")))
        for place, url in enumerate(urls):
            if _nth(pins, place) and not url.startswith("https://"):
                raise ValueError(_entry(place, len(urls)) + "needs an https:// ERT_LLM_BACKEND_URL")
        checked = []
        for place, pin in enumerate(pins):
            try:
                checked.append(parse_fingerprint(pin) if pin else "")
            except ValueError as exc:
                raise ValueError(_entry(place, len(pins)) + str(exc)) from None
        return ",".join(checked)

    @property
    def gpu_tiers(self) -> list[GpuTierLink]:
        """The GPU tiers ERT_LLM_BACKEND_URL lists, each with its key and pinned certificate
        (a key or fingerprint given once serves every tier)."""
        urls = entries(self.ert_llm_backend_url)
        keys = entries(self.ert_llm_api_key.get_secret_value())
        pins = entries(self.ert_llm_tls_fingerprint or "")
        return [
            GpuTierLink(url, SecretStr(_nth(keys, place)), _nth(pins, place) or None)
            for place, url in enumerate(urls)
        ]

    @field_validator("ert_reports_per_user", "ert_reports_per_address")
    @classmethod
    def _rate_limits(cls, text: str) -> str:
        try:
            parse_many(text)
        except ValueError:
            raise ValueError("must be rate limits such as 5/minute;30/hour") from None
        return text

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(REDIS_SCHEMES):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return url

    @field_validator("ert_report_workers")
    @classmethod
    def _workers_need_redis(cls, workers: bool, info: ValidationInfo) -> bool:
        if workers and info.data.get("redis_url") is None:
            raise ValueError("needs REDIS_URL: the report queue is in Redis")
        return workers

    @property
    def ratelimit_storage_uri(self) -> str:
        """Where the rate limits count: the instances share them through Redis when it is set."""
        if self.ert_ratelimit_storage_uri is not None:
            return self.ert_ratelimit_storage_uri
        if self.redis_url is not None:
            url = self.redis_url.get_secret_value()
            return "redis+" + url if url.startswith("unix://") else url  # the limits library's
        return "memory://"

    @property
    def socketio_transports(self) -> tuple[str, ...]:
        """How browsers reach Socket.IO: WebSocket alone when several instances serve them
        (one connection stays on one instance, so the load balancer needs no sticky
        sessions); else WebSocket, falling back to long-polling."""
        return ("websocket",) if self.redis_url is not None else ("websocket", "polling")

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

    @field_validator("ert_equity_risk_premium", "ert_terminal_growth", mode="before")
    @classmethod
    def _one_rate(cls, value: object) -> object:
        return _rate(value) if isinstance(value, str) else value

    @field_validator("ert_terminal_growth")
    @classmethod
    def _terminal_growth(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value < 0.1:
            raise ValueError("must be between 0% and 10% (for example 2.5%)")
        return value

    @field_validator("ert_risk_free_rates", mode="before")
    @classmethod
    def _rates_by_currency(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        rates: dict[str, float] = {}
        for currency, rate, item in _pairs(value):
            if not re.fullmatch(r"[A-Z]{3}", currency.upper()) or not rate:
                raise ValueError(f"must list CURRENCY=RATE pairs such as USD=4.3%, not {item!r}")
            rates[currency.upper()] = _rate(rate)
        if not rates:
            raise ValueError("must list CURRENCY=RATE pairs such as USD=4.3%,EUR=2.6%")
        return rates

    @field_validator("ert_valuation_weights", mode="before")
    @classmethod
    def _weights(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        weights: dict[str, float] = {}
        for group, weight, item in _pairs(value):
            try:
                weights[group.lower()] = float(weight)
            except ValueError:
                raise ValueError(f"must be numbers such as dcf=50, not {item!r}") from None
        groups = ", ".join(VALUATION_WEIGHTS)
        if set(weights) != set(VALUATION_WEIGHTS):
            raise ValueError(f"must give a weight to each of {groups} (dcf=50,peers=30,history=20)")
        if min(weights.values()) < 0 or not sum(weights.values()) > 0:
            raise ValueError("must be weights of 0 or more, not all 0")
        return weights

    @field_validator("ert_risk_free_rates_as_of", "ert_equity_risk_premium_as_of")
    @classmethod
    def _dated(cls, as_of: date | None, info: ValidationInfo) -> date | None:
        """A market rate is shown with its date: set both or neither."""
        rate = str(info.field_name).removesuffix("_as_of")
        if (as_of is None) != (info.data.get(rate) is None):
            raise ValueError(f"and {rate.upper()} go together: a rate is shown with its date")
        return as_of

    @property
    def valuation(self) -> ValuationSettings:
        """The valuation's settings: these variables over analysis/assumptions.py's defaults."""
        base = DEFAULT_SETTINGS
        rates = dict(base.risk_free_rates)
        if self.ert_risk_free_rates is not None:
            source = "ERT_RISK_FREE_RATES setting"
            for currency, value in self.ert_risk_free_rates.items():
                rates[currency] = Rate(value, source, self.ert_risk_free_rates_as_of)
        premium = base.equity_risk_premium
        if self.ert_equity_risk_premium is not None:
            premium = Rate(
                self.ert_equity_risk_premium,
                "ERT_EQUITY_RISK_PREMIUM setting",
                self.ert_equity_risk_premium_as_of,
            )
        return ValuationSettings(
            risk_free_rates=rates,
            equity_risk_premium=premium,
            terminal_growth=(
                base.terminal_growth
                if self.ert_terminal_growth is None
                else self.ert_terminal_growth
            ),
            forecast_years=self.ert_forecast_years or base.forecast_years,
            weights=self.ert_valuation_weights or base.weights,
        )

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


def _pairs(text: str) -> Iterator[tuple[str, str, str]]:
    """ "USD=4.3%, EUR=2.6%" as (name, value, item) for each comma-separated item."""
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        yield name.strip(), value.strip(), item


def _rate(text: str) -> float:
    """ "4.3%" or "0.043" as the fraction 0.043."""
    raw = text.strip()
    try:
        value = float(raw.removesuffix("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise ValueError(f"must be a rate such as 4.3% or 0.043, not {raw[:20]!r}") from None
    if not raw.endswith("%") and abs(value) > _MAX_BARE_FRACTION:
        raise ValueError(f"must be a rate such as 4.3% or 0.043: write {raw}% if you mean it")
    return value


class GpuTierLink(NamedTuple):
    url: str
    api_key: SecretStr
    fingerprint: str | None  # None: the usual certificate authorities


def entries(text: str) -> list[str]:
    """A comma-separated list, each entry stripped (an empty entry stays, as "")."""
    return [part.strip() for part in text.split(",")]


def _nth(values: list[str], place: int) -> str:
    return values[0] if len(values) == 1 else values[place]


def _entry(place: int, count: int) -> str:
    """How a message names an entry of a list: nothing for a list of one."""
    return f"entry {place + 1} " if count > 1 else ""


def _one_or_one_per_tier(text: str, what: str, info: ValidationInfo) -> list[str]:
    """`text`'s entries, when there is one for all GPU tiers or one per tier."""
    given = entries(text)
    urls = info.data.get("ert_llm_backend_url")
    tiers = len(entries(urls)) if isinstance(urls, str) else len(given)
    if len(given) not in (1, tiers):
        raise ValueError(
            f"lists {len(given)} {what} for {tiers} GPU tiers (ERT_LLM_BACKEND_URL): give "
            "one for all of them, or one per tier in the same order"
        )
    return given


def _tier_url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be a URL such as https://203.0.113.7:8000"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return (
            "must be https:// (the key and the reports would cross the network in "
            "clear); http:// is for the GPU tier on this machine only"
        )
    return None


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
