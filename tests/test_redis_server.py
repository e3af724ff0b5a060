"""The test Redis itself: a real redis-server, without persistence, that can be taken away."""

import pytest
import redis


def test_the_session_redis_answers_and_keeps_nothing_on_disk(redis_url) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set("ert:probe", "1")
    assert client.get("ert:probe") == b"1"
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("appendonly") == {"appendonly": "no"}


def test_a_stopped_redis_refuses_and_comes_back_on_the_same_url(own_redis) -> None:
    client = redis.Redis.from_url(own_redis.url, socket_timeout=2)
    own_redis.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    own_redis.start()
    assert client.ping()
