"""The fake Ollama speaks the API the official client expects (other tests rely on it)."""

from __future__ import annotations

import httpx
import pytest
from ollama import AsyncClient, ResponseError

from tests.fakes.ollama import FakeOllama, Reply

pytestmark = pytest.mark.anyio


async def test_official_client_reads_every_endpoint(ollama: FakeOllama) -> None:
    client = AsyncClient(host=ollama.url)
    ollama.reply = Reply(text="one two three", thinking="hmm")

    parts = [p async for p in await client.chat(model="gpt-oss:20b", messages=[], stream=True)]
    tags = await client.list()
    shown = await client.show("gpt-oss:20b")
    async with httpx.AsyncClient() as http:
        version = (await http.get(f"{ollama.url}/api/version")).json()

    assert "".join(p.message.thinking or "" for p in parts) == "hmm"
    assert "".join(p.message.content for p in parts) == "one two three"
    assert parts[-1].done and parts[-1].eval_count == 3 and parts[-1].eval_duration > 0
    assert [m.model for m in tags.models] == list(ollama.models)
    assert shown.capabilities == ["completion", "thinking"]
    assert version == {"version": "0.12.3"}
    with pytest.raises(ResponseError) as missing:
        await client.show("phi3:mini")
    assert missing.value.status_code == 404
    await client.close()
