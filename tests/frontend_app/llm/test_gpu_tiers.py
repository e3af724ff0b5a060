"""Several GPU tiers (ERT_LLM_BACKEND_URL lists them): two real GPU tiers (vast_ai on
uvicorn, in front of the fake Ollama), one of them killed or refusing the key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from frontend_app.settings import ConfigError, Settings
from tests.fakes.live import serve
from tests.fakes.ollama import FakeOllama
from tests.frontend_app.conftest import API_KEY
from tests.frontend_app.llm.test_fallback_chain import generate, messages
from vast_ai.app import create_app as create_gpu_tier
from vast_ai.settings import Settings as GpuTierSettings


class CountedTier:
    """A GPU tier on its own port that counts the reports it was asked to write; `kill()`
    stops its server."""

    def __init__(self, ollama: FakeOllama, slots: int) -> None:
        settings = GpuTierSettings(
            ert_api_key=API_KEY,
            ert_engine="ollama",
            ollama_host=ollama.url,
            ert_generation_timeout=20.0,
            ert_max_concurrency=slots,
        )
        self._app = create_gpu_tier(settings)
        self.reports = 0
        self._stack = ExitStack()
        self.url = self._stack.enter_context(serve(self._counted, interface="asgi3"))

    async def _counted(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/generate_report/stream":
            self.reports += 1
        await self._app(scope, receive, send)

    def kill(self) -> None:
        self._stack.close()


@pytest.fixture
def tiers(ollama: FakeOllama) -> Iterator[Any]:
    started: list[CountedTier] = []

    def start(*slots: int) -> list[CountedTier]:
        started.extend(CountedTier(ollama, n) for n in slots)
        return started[-len(slots) :]

    yield start
    for tier in started:
        tier.kill()


def tiers_env(*urls: str, keys: str = API_KEY) -> dict[str, str]:
    return {
        "REMOTE_LLM_INTEGRATION": "true",
        "ERT_LLM_BACKEND_URL": ",".join(urls),
        "ERT_LLM_API_KEY": keys,
    }


@pytest.mark.parametrize("slots", [(1, 3), (3, 1)])
def test_a_report_goes_to_the_tier_with_the_most_free_slots(
    make_app, watcher, tiers, slots
) -> None:
    first, second = tiers(*slots)
    app = make_app(**tiers_env(first.url, second.url))
    done, _, store = generate(app, watcher)
    assert done["event"] == "completed", done
    roomier, other = (first, second) if slots[0] > slots[1] else (second, first)
    assert (roomier.reports, other.reports) == (1, 0)
    assert store.get(done["report_id"]).integration == "remote"
    assert app.extensions["ert"].remote.slots == sum(slots)


def test_a_killed_tier_is_left_out_and_the_next_report_goes_to_the_other(
    make_app, watcher, tiers
) -> None:
    small, big = tiers(1, 3)
    app = make_app(**tiers_env(small.url, big.url))
    assert generate(app, watcher)[0]["event"] == "completed"
    assert big.reports == 1

    big.kill()
    done, events, store = generate(app, watcher)
    assert done["event"] == "completed", done
    assert small.reports == 1
    said = messages(events)
    assert any(f"GPU tier 2 ({big.url}) does not answer" in m for m in said), said
    assert store.get(done["report_id"]).integration == "remote"

    health = app.test_client().get("/health").json["backend"]["remote"]
    assert [(t["url"], t["status"]) for t in health["tiers"]] == [
        (small.url, "healthy"),
        (big.url, "unreachable"),
    ]
    assert health["status"] == "healthy"  # the best tier stands for them all
    assert app.extensions["ert"].remote.slots == 1  # the killed tier's slots are not counted


def test_a_tier_that_refuses_the_key_is_skipped_with_a_notice(make_app, watcher, tiers) -> None:
    refusing, good = tiers(3, 1)  # the refusing tier has more free slots: it is tried first
    app = make_app(**tiers_env(refusing.url, good.url, keys=f"ert-wrong-key-{'x' * 30},{API_KEY}"))
    done, events, _ = generate(app, watcher)
    assert done["event"] == "completed", done
    assert (refusing.reports, good.reports) == (1, 1)
    switch = next(m for m in messages(events) if "Trying GPU tier 2" in m)
    assert f"GPU tier 1 ({refusing.url})" in switch and "ERT_LLM_API_KEY" in switch
    assert "ert-wrong-key" not in switch and API_KEY not in switch
    # Skipped for a while: the next report does not ask it again.
    assert generate(app, watcher)[0]["event"] == "completed"
    assert (refusing.reports, good.reports) == (1, 2)


def test_every_tier_down_falls_back_along_the_chain(make_app, watcher, down_url) -> None:
    app = make_app(**tiers_env(down_url, down_url.replace("127.0.0.1", "localhost")))
    done, events, store = generate(app, watcher)
    assert done["event"] == "completed", done
    assert store.get(done["report_id"]).integration == "data_only"
    said = messages(events)
    assert sum("does not answer" in m for m in said) == 2, said
    assert any("Falling back to the data-only writer" in m for m in said), said


def test_tiers_keys_and_fingerprints_pair_up_in_order() -> None:
    pin = "AB" * 32
    settings = Settings.from_env(
        {
            "ERT_LLM_BACKEND_URL": "https://a.example:8000/, https://b.example:8000",
            "ERT_LLM_API_KEY": "ert-key-a,ert-key-b",
            "ERT_LLM_TLS_FINGERPRINT": f"{pin},",
        }
    )
    links = [(t.url, t.api_key.get_secret_value(), t.fingerprint) for t in settings.gpu_tiers]
    assert links == [
        ("https://a.example:8000", "ert-key-a", ":".join(["AB"] * 32)),
        ("https://b.example:8000", "ert-key-b", None),
    ]
    one_key = Settings.from_env(
        {"ERT_LLM_BACKEND_URL": "https://a.example,https://b.example", "ERT_LLM_API_KEY": "k"}
    )
    assert [t.api_key.get_secret_value() for t in one_key.gpu_tiers] == ["k", "k"]


@pytest.mark.parametrize(
    "env, words",
    [
        (
            {"ERT_LLM_BACKEND_URL": "https://a.example,gpu-b.example:8000"},
            "ERT_LLM_BACKEND_URL entry 2 must be a URL such as https://",
        ),
        (
            {"ERT_LLM_BACKEND_URL": "https://a.example,,https://c.example"},
            "ERT_LLM_BACKEND_URL entry 2 must be a URL",
        ),
        (
            {"ERT_LLM_BACKEND_URL": "https://a.example,http://10.0.0.7:8000"},
            "ERT_LLM_BACKEND_URL entry 2 must be https://",
        ),
        (
            {"ERT_LLM_BACKEND_URL": "https://a.example:99999"},
            "ERT_LLM_BACKEND_URL must be a URL",
        ),
        (
            {
                "ERT_LLM_BACKEND_URL": "https://a.example,https://b.example",
                "ERT_LLM_API_KEY": "k1,k2,k3",
            },
            "ERT_LLM_API_KEY lists 3 keys for 2 GPU tiers",
        ),
        (
            {
                "ERT_LLM_BACKEND_URL": "https://a.example,https://b.example",
                "ERT_LLM_TLS_FINGERPRINT": "AB" * 32 + ",nonsense",
            },
            "ERT_LLM_TLS_FINGERPRINT entry 2 is not a SHA-256 fingerprint",
        ),
        (
            {
                "ERT_LLM_BACKEND_URL": "https://a.example,http://127.0.0.1:8001",
                "ERT_LLM_TLS_FINGERPRINT": ",".join(["AB" * 32] * 2),
            },
            "ERT_LLM_TLS_FINGERPRINT entry 2 needs an https:// ERT_LLM_BACKEND_URL",
        ),
    ],
)
def test_a_malformed_tier_entry_stops_the_start_naming_it(env, words) -> None:
    with pytest.raises(ConfigError, match=words) as failure:
        Settings.from_env(env)
    assert "k1" not in str(failure.value) and "nonsense" not in str(failure.value)
