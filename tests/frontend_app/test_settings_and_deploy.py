"""Settings from the environment, and render.yaml checked against what the app really serves."""

from __future__ import annotations

import importlib.util
import runpy
import shlex
from pathlib import Path

import pytest
import yaml

from frontend_app.settings import SHUTDOWN_GRACE, ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
DESIGN_START = "gunicorn --worker-class eventlet -w 1 --bind 0.0.0.0:$PORT wsgi:app"
# Read by Render itself, not by the app.
RENDER_ONLY = {"PYTHON_VERSION"}
ENV_NAMES = {name.upper() for name in Settings.model_fields}


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.remote_llm_integration and not settings.ollama_integration
    assert settings.ert_llm_timeout == 120 and settings.ert_max_concurrent_reports == 4
    assert settings.ert_models[0] == "gpt-oss:20b" and settings.ert_data_source == "auto"
    assert settings.database_url is None
    assert len(settings.secret_key.get_secret_value()) == 64


def test_values_are_read_and_typed() -> None:
    settings = Settings.from_env(
        {
            "REMOTE_LLM_INTEGRATION": "off",
            "OLLAMA_INTEGRATION": "YES",
            "ERT_LLM_TIMEOUT": "30",
            "ERT_MODELS": " a:1b , b:2b ,",
            "ERT_MAX_CONCURRENT_REPORTS": "7",
            "GPU_HOURLY_COST": "0.5",
            "ERT_LLM_BACKEND_URL": "https://gpu.example/",
            "ERT_DATA_SOURCE": "Snapshot",
        }
    )
    assert not settings.remote_llm_integration and settings.ollama_integration
    assert settings.ert_llm_timeout == 30.0 and settings.ert_models == ("a:1b", "b:2b")
    assert settings.ert_max_concurrent_reports == 7 and settings.gpu_hourly_cost == 0.5
    assert settings.ert_llm_backend_url == "https://gpu.example"
    assert settings.ert_data_source == "snapshot"


def test_the_gpu_tier_link_is_private() -> None:
    pin = "sha256 Fingerprint=" + ":".join(["7F"] * 32)
    settings = Settings.from_env(
        {"ERT_LLM_BACKEND_URL": "https://203.0.113.7:41234", "ERT_LLM_TLS_FINGERPRINT": pin}
    )
    assert settings.ert_llm_tls_fingerprint == ":".join(["7F"] * 32)
    for local in ("http://127.0.0.1:8001", "http://localhost:8001", "http://[::1]:8001"):
        assert Settings.from_env({"ERT_LLM_BACKEND_URL": local}).ert_llm_backend_url == local
    off = {"REMOTE_LLM_INTEGRATION": "false", "ERT_LLM_BACKEND_URL": "http://203.0.113.7:8000"}
    assert not Settings.from_env(off).remote_llm_integration


def test_the_process_environment_is_read_when_no_mapping_is_given(monkeypatch) -> None:
    monkeypatch.setenv("ERT_MAX_CONCURRENT_REPORTS", "3")
    monkeypatch.setenv("OLLAMA_HOST", "")  # empty counts as unset
    settings = Settings.from_env()
    assert settings.ert_max_concurrent_reports == 3
    assert settings.ollama_host == "http://127.0.0.1:11434"


@pytest.mark.parametrize(
    "env, words",
    [
        ({"OLLAMA_INTEGRATION": "maybe"}, "OLLAMA_INTEGRATION must be true or false"),
        ({"ERT_LLM_TIMEOUT": "soon"}, "ERT_LLM_TIMEOUT must be a number"),
        ({"ERT_MAX_CONCURRENT_REPORTS": "0"}, "ERT_MAX_CONCURRENT_REPORTS must be at least 1"),
        ({"ERT_DATA_SOURCE": "bloomberg"}, "ERT_DATA_SOURCE must be"),
        ({"ERT_MODELS": " , "}, "ERT_MODELS must name at least one model"),
        ({"ERT_LLM_BACKEND_URL": "http://203.0.113.7:8000"}, "ERT_LLM_BACKEND_URL must be https"),
        ({"ERT_LLM_TLS_FINGERPRINT": "AB:CD"}, "ERT_LLM_TLS_FINGERPRINT needs an https://"),
        (
            {"ERT_LLM_BACKEND_URL": "https://gpu.example", "ERT_LLM_TLS_FINGERPRINT": "xyz"},
            "ERT_LLM_TLS_FINGERPRINT is not a SHA-256 fingerprint",
        ),
        ({"ERT_REPORTS_PER_USER": "plenty"}, "ERT_REPORTS_PER_USER must be rate limits"),
        ({"ERT_MAX_QUEUE": "-1"}, "ERT_MAX_QUEUE must be at least 0"),
        ({"ERT_ADMIN_PASSWORD": "a long secret"}, "ERT_ADMIN_PASSWORD and ERT_ADMIN_EMAIL go"),
        ({"ERT_ADMIN_EMAIL": "ops@example.com"}, "ERT_ADMIN_PASSWORD and ERT_ADMIN_EMAIL go"),
    ],
)
def test_bad_values_say_which_setting_is_wrong(env, words) -> None:
    with pytest.raises(ConfigError, match=words) as failure:
        Settings.from_env(env)
    value = next(iter(env.values())).strip(" ,")
    assert not value or value not in str(failure.value)


def test_secrets_stay_out_of_the_settings_repr_and_errors() -> None:
    settings = Settings.from_env(
        {"ERT_LLM_API_KEY": "ert-topsecret", "OPENAI_API_KEY": "sk-x", "SECRET_KEY": "flask-secret"}
    )
    assert settings.ert_llm_api_key.get_secret_value() == "ert-topsecret"
    assert "topsecret" not in repr(settings) and "sk-x" not in repr(settings)
    assert "flask-secret" not in repr(settings)
    with pytest.raises(ConfigError) as failure:
        Settings.from_env({"ERT_LLM_API_KEY": "ert-topsecret", "GPU_HOURLY_COST": "ert-topsecret"})
    assert "GPU_HOURLY_COST" in str(failure.value) and "topsecret" not in str(failure.value)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_render_postgres_urls_use_psycopg3(given, expected) -> None:
    assert Settings.from_env({"DATABASE_URL": given}).database_url == expected


def test_the_sqlite_file_defaults_to_the_instance_folder() -> None:
    from frontend_app import create_app

    app = create_app({"SECRET_KEY": "s", "REMOTE_LLM_INTEGRATION": "false"})
    try:
        assert (Path(app.instance_path) / "ert.sqlite3").is_file()
    finally:
        app.extensions["ert"].close()


@pytest.fixture(scope="module")
def blueprint() -> dict:
    return yaml.safe_load((ROOT / "render.yaml").read_text())


def test_render_yaml_is_a_web_service_started_as_design_md_says(blueprint) -> None:
    (service,) = blueprint["services"]
    assert service["type"] == "web" and service["runtime"] == "python"
    assert service["plan"] == "starter"
    assert service["buildCommand"] == "pip install -r requirements.txt"
    assert service["startCommand"] == DESIGN_START
    assert service["healthCheckPath"] == "/health"


def test_render_keeps_reports_and_jobs_across_deploys_and_stops_gracefully(blueprint) -> None:
    (service,) = blueprint["services"]
    assert "autoDeploy" not in service and service["autoDeployTrigger"] == "commit"
    by_key = {v["key"]: v.get("value") for v in service["envVars"]}
    # The database is a file on the persistent disk, not on the ephemeral one.
    database = by_key["DATABASE_URL"]
    assert database.startswith(f"sqlite:///{service['disk']['mountPath']}/")
    assert service["disk"]["sizeGB"] >= 1
    # The reports' grace period and gunicorn's stop fit before Render's SIGKILL.
    grace = float(by_key["ERT_SHUTDOWN_GRACE"])
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    stop = grace + 2 * conf["CONNECTIONS_GRACE"]
    assert stop <= service["maxShutdownDelaySeconds"] <= 300
    # gunicorn.conf.py, which imports nothing of the app, repeats the settings' default.
    assert conf["SHUTDOWN_GRACE"] == SHUTDOWN_GRACE == Settings().ert_shutdown_grace


def test_render_start_command_names_a_module_and_app_that_exist(blueprint) -> None:
    target = shlex.split(blueprint["services"][0]["startCommand"])[-1]
    module_name, attribute = target.split(":")
    assert (ROOT / f"{module_name}.py").is_file()
    source = (ROOT / f"{module_name}.py").read_text()
    assert source.index("eventlet.monkey_patch()") < source.index("from frontend_app import")
    assert f"{attribute} = create_app(serving=True)" in source
    assert importlib.util.find_spec("gunicorn.workers.geventlet") is not None  # gunicorn < 26


def test_render_health_path_answers_200(blueprint, make_app) -> None:
    path = blueprint["services"][0]["healthCheckPath"]
    response = make_app().test_client().get(path)
    assert response.status_code == 200 and response.json["status"] == "ok"


def test_every_render_env_var_is_read_by_the_settings_and_no_secret_is_in_the_file(
    blueprint,
) -> None:
    env_vars = blueprint["services"][0]["envVars"]
    keys = {v["key"] for v in env_vars}
    assert keys - RENDER_ONLY <= ENV_NAMES, keys - RENDER_ONLY - ENV_NAMES
    by_key = {v["key"]: v for v in env_vars}
    assert by_key["SECRET_KEY"] == {"key": "SECRET_KEY", "generateValue": True}
    for secret in (
        "ERT_LLM_API_KEY",
        "ERT_LLM_BACKEND_URL",
        "ERT_LLM_TLS_FINGERPRINT",
        "ERT_ADMIN_EMAIL",
        "ERT_ADMIN_PASSWORD",
        "OPENAI_API_KEY",
    ):
        assert by_key[secret] == {"key": secret, "sync": False}
    for flag in ("REMOTE_LLM_INTEGRATION", "OLLAMA_INTEGRATION", "OPENAI_INTEGRATION"):
        assert flag in by_key
    # Every literal value in the file parses with the settings.
    Settings.from_env({k: str(v["value"]) for k, v in by_key.items() if "value" in v})
