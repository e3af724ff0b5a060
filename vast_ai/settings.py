"""The GPU tier's settings, read once from the environment (names as in DESIGN.md).

Field names are the environment variable names in lower case, so `Settings(ollama_host=...)`
in a test and `OLLAMA_HOST=...` in a container mean the same thing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from vast_ai.api_key import key_problem

EngineName = Literal["ollama", "openai", "llamacpp", "data_only"]


_KEY_NOT_SET = (
    "is not set: generate a key with `python generate_api_key.py` "
    "and pass it in the environment (-e ERT_API_KEY=...)"
)


class SettingsError(SystemExit):
    """Raised (as a clean exit, without a traceback) when the settings cannot start the service."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    ert_api_key: SecretStr
    ert_engine: EngineName = "ollama"

    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "gpt-oss:20b"
    ollama_keep_alive: str = "24h"
    ert_allowed_models: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["gpt-oss:20b", "llama3.1:8b", "mistral:7b"]
    )

    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_api_key: SecretStr = SecretStr("not-needed")
    openai_model: str = "default"

    ert_gguf_path: str | None = None

    # The context window of every model call, and of the entrypoint's warm-up, so that no
    # request makes Ollama reload the model with another size (the image sets 8192).
    ollama_context_length: int = Field(default=8192, ge=512, le=1_048_576)

    # Model calls running at once, for all requests together (match OLLAMA_NUM_PARALLEL);
    # also the number of reports generating at once.
    ert_max_concurrency: int = Field(default=4, ge=1, le=64)
    # Reports that may wait for a slot; one more gets 429.
    ert_max_queue: int = Field(default=8, ge=0, le=1000)
    # Seconds a whole report may take, and the longest silence from the engine.
    ert_generation_timeout: float = Field(default=300.0, gt=0)
    ert_grounding_threshold: float = Field(default=0.2, ge=0.0, le=1.0)

    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)

    # Seconds a request body may take to arrive whole; a slower one gets 408.
    ert_body_timeout: float = Field(default=30.0, gt=0)

    @field_validator("ert_api_key", mode="before")
    @classmethod
    def _key_usable(cls, value: object) -> object:
        key = value.get_secret_value() if isinstance(value, SecretStr) else value
        if key == "":
            raise ValueError(_KEY_NOT_SET)
        if isinstance(key, str) and (problem := key_problem(key)):
            raise ValueError(problem)
        return value

    @field_validator("ert_allowed_models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    def allowed_ollama_models(self) -> list[str]:
        """ERT_ALLOWED_MODELS with OLLAMA_MODEL (the default) first."""
        others = [name for name in self.ert_allowed_models if name != self.ollama_model]
        return [self.ollama_model, *others]


def load_settings() -> Settings:
    """Read the environment, or exit with a message naming what is wrong (never its value)."""
    try:
        return Settings()  # type: ignore[call-arg]  # ERT_API_KEY comes from the environment
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            if name == "ERT_API_KEY":
                reason = str(error["msg"]).removeprefix("Value error, ")
                problems.append(f"{name} {_KEY_NOT_SET if error['type'] == 'missing' else reason}")
            else:
                problems.append(f"{name}: {error['msg']}")
        raise SettingsError("ERT cannot start: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


if __name__ == "__main__":
    # `python -m vast_ai.settings`: the entrypoint's check, before it starts Ollama.
    load_settings()
