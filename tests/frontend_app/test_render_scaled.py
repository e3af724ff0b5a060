"""render-scaled.yaml, Render's blueprint for several dashboard instances, checked against
what the app reads and serves: every service wired to the one Key Value and the one
database, and a dashboard started with its settings shares Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from frontend_app.settings import Settings
from tests.frontend_app.test_settings_and_deploy import DESIGN_START, ENV_NAMES, RENDER_ONLY

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "ERT_LLM_BACKEND_URL",
    "ERT_LLM_API_KEY",
    "ERT_LLM_TLS_FINGERPRINT",
    "ERT_ADMIN_EMAIL",
    "ERT_ADMIN_PASSWORD",
    "OPENAI_API_KEY",
}


@pytest.fixture(scope="module")
def blueprint() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "render-scaled.yaml").read_text())


def services(blueprint: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in blueprint["services"] if s["type"] == kind]


def env_vars(blueprint: dict[str, Any], service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A service's variables by name, its groups' included."""
    groups = {g["name"]: g["envVars"] for g in blueprint["envVarGroups"]}
    found: dict[str, dict[str, Any]] = {}
    for var in service["envVars"]:
        for each in groups[var["fromGroup"]] if "fromGroup" in var else [var]:
            assert each["key"] not in found, f"{each['key']} set twice for {service['name']}"
            found[each["key"]] = each
    return found


def test_several_dashboards_started_as_design_md_says(blueprint) -> None:
    (web,) = services(blueprint, "web")
    assert web["numInstances"] > 1
    assert web["startCommand"] == DESIGN_START and web["healthCheckPath"] == "/health"
    (worker,) = services(blueprint, "worker")
    assert worker["startCommand"] == "python -m frontend_app.worker"
    assert worker["buildCommand"] == web["buildCommand"]
    # Render's SIGKILL comes after the worker's grace for its running reports.
    grace = float(env_vars(blueprint, worker)["ERT_SHUTDOWN_GRACE"]["value"])
    assert worker["maxShutdownDelaySeconds"] >= grace + 10


def test_the_dashboards_share_the_key_value_and_the_database(blueprint) -> None:
    (key_value,) = services(blueprint, "keyvalue")
    assert key_value["ipAllowList"] == []  # Render's private network only
    assert key_value["maxmemoryPolicy"] == "volatile-lru"
    (database,) = blueprint["databases"]
    for service in services(blueprint, "web") + services(blueprint, "worker"):
        wired = env_vars(blueprint, service)
        assert wired["ERT_REPORT_WORKERS"]["value"] == "true"  # alike everywhere
        assert wired["REDIS_URL"]["fromService"] == {
            "type": "keyvalue",
            "name": key_value["name"],
            "property": "connectionString",
        }
        assert wired["DATABASE_URL"]["fromDatabase"] == {
            "name": database["name"],
            "property": "connectionString",
        }
        assert "ERT_LLM_BACKEND_URL" in wired  # the GPU tiers' health, and the worker's writing


def test_every_variable_is_read_by_the_settings_and_no_secret_is_in_the_file(blueprint) -> None:
    for service in services(blueprint, "web") + services(blueprint, "worker"):
        wired = env_vars(blueprint, service)
        assert set(wired) - RENDER_ONLY <= ENV_NAMES, set(wired) - RENDER_ONLY - ENV_NAMES
        for name in SECRETS & set(wired):
            assert wired[name] == {"key": name, "sync": False}
        values = {k: str(v["value"]) for k, v in wired.items() if "value" in v}
        Settings.from_env({**values, "REDIS_URL": "redis://key-value:6379"})
    (web,) = services(blueprint, "web")
    assert env_vars(blueprint, web)["SECRET_KEY"] == {"key": "SECRET_KEY", "generateValue": True}


def test_a_dashboard_with_the_blueprints_settings_shares_redis(
    blueprint, make_app, redis_url
) -> None:
    (web,) = services(blueprint, "web")
    values = {k: str(v["value"]) for k, v in env_vars(blueprint, web).items() if "value" in v}
    values.pop("PYTHON_VERSION")
    app = make_app(**values, ERT_LLM_BACKEND_URL="https://gpu.example:8000", REDIS_URL=redis_url)
    health = app.test_client().get("/health").json
    assert health["backend"]["redis"] == "ok"
    assert 'data-transports="websocket"' in app.test_client().get("/").get_data(as_text=True)
    # Its reports go on the report queue, for the worker service.
    answer = app.test_client().post("/api/reports", json={"ticker": "AAPL"})
    job = app.test_client().get(f"/api/jobs/{answer.json['job_id']}").json
    assert (job["state"], job["queue_position"]) == ("queued", 1)
    assert redis.Redis.from_url(redis_url).llen("dramatiq:reports") == 1
