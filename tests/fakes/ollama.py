"""A local server speaking Ollama's real HTTP API (pytest-httpserver, threaded), offline.

API::

    from tests.fakes.ollama import FakeOllama, Reply, rating_json

    with FakeOllama(models={"gpt-oss:20b": "sha256:..."}) as ollama:   # or FakeOllama()
        ollama.url                       # "http://127.0.0.1:<port>" for OLLAMA_HOST
        ollama.models                    # {name: digest} it has "pulled"; edit it freely
        ollama.reply = Reply(text="Revenue was $391.0B.", thinking="let me think")  # every chat
        ollama.responder = lambda body: Reply(...)   # or per request (used while reply is None);
                                                     # body is the /api/chat JSON
        ollama.chat_requests             # the /api/chat JSON bodies received, in order
        ollama.paths                     # every "METHOD /path" received (e.g. no "POST /api/pull")
        ollama.in_flight, ollama.max_in_flight   # /api/chat streams open now / at most
        ollama.loads                     # the load-time options of every chat and generate
        ollama.reloads                   # loads that changed them for a model already loaded
        ollama.context_length = 4096     # num_ctx of a request that names none (the server's
                                         # OLLAMA_CONTEXT_LENGTH)
        ollama.reset()                   # back to defaults; ends streams still running

`Reply` fields: `text` (streamed one word per chunk), `thinking` (gpt-oss `thinking`
chunks sent first), `error_after` / `error` (an `{"error": ...}` line after that many
content chunks, as Ollama does when a runner dies mid-stream), `bad_line_after` (a line
that is not JSON after that many content chunks), `first_byte_delay` (seconds before
anything is sent: a slow model), `chunk_delay` (seconds between chunks),
`tokens_per_second` (chunks paced at that rate from the first, each written on its own,
as a GPU streams them), `done_reason` (of the last chunk: "stop" or "length"),
`status` (answer that HTTP status with `{"error": ...}` instead of streaming).

Like Ollama, the fake keeps one loaded state per model: the options that need the model
loaded anew when they change (`LOAD_OPTIONS`, num_ctx first). Each /api/chat and
/api/generate is recorded in `loads` as `{"path", "model", **those options}` (num_ctx
filled in from `context_length` when a request names none), and counted in `reloads`
when it differs from the model's loaded state.

Endpoints: POST /api/chat (an NDJSON stream whose last chunk has done=true, done_reason,
prompt_eval_count, eval_count and eval_duration in ns), POST /api/generate (the warm-up:
an empty prompt loads the model and answers one JSON object), GET /api/ps (the loaded
models, all of them in GPU memory), GET /api/tags, POST /api/show, GET /api/version. A
model not in `models` gets 404 `model "x" not found, try pulling it first` from /api/chat,
/api/generate and /api/show. Anything else (for instance /api/pull) gets 404 and is still
recorded in `paths`. By default a request with a `format` (a JSON schema) gets
`rating_json()`, any other request a short section text. For a refused connection, use
`refused_url()`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.serving import WSGIRequestHandler

DEFAULT_MODELS = {
    "gpt-oss:20b": "sha256:aa4295ac10c3afb60e6d711289fc6896f5aef82258997b9efdaed6d0cc4cd8b8",
    "llama3.1:8b": "sha256:46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
}
DEFAULT_TEXT = "Revenue reached $391.0B while the shares held their premium."
DEFAULT_CONTEXT_LENGTH = 4096  # Ollama's own default
# Options that make Ollama load a model anew when a request changes them.
LOAD_OPTIONS = ("num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread")
_WORDS = re.compile(r"\s*\S+")


def rating_json(recommendation: str = "hold", conviction: str = "medium") -> str:
    return json.dumps(
        {"recommendation": recommendation, "conviction": conviction, "summary": "Fairly valued."}
    )


@dataclass
class Reply:
    text: str = DEFAULT_TEXT
    thinking: str = ""
    error_after: int | None = None
    error: str = "an error was encountered while running the model: unexpected EOF"
    bad_line_after: int | None = None
    first_byte_delay: float = 0.0
    chunk_delay: float = 0.0
    tokens_per_second: float | None = None
    done_reason: str = "stop"
    status: int = 200


def default_responder(body: dict[str, Any]) -> Reply:
    return Reply(text=rating_json()) if body.get("format") else Reply()


def refused_url() -> str:
    """A loopback URL nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FakeOllama:
    def __init__(self, models: dict[str, str] | None = None) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)
        self._initial_models = dict(models or DEFAULT_MODELS)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.reset()

    # lifecycle

    def __enter__(self) -> FakeOllama:
        self.server.start()
        # Write each chunk of a stream in one piece, as Ollama does: werkzeug's handler
        # writes unbuffered, so a chunk's size line, data and end would go out apart.
        wsgi_server = self.server.server
        assert wsgi_server is not None
        wsgi_server.RequestHandlerClass = _OneWritePerChunk
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self.server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def reset(self) -> None:
        """Defaults again, counters cleared; streams of earlier tests are told to end."""
        self._stop.set()
        self._stop = threading.Event()
        with self._lock:
            self.models = dict(self._initial_models)
            self.reply: Reply | None = None
            self.responder: Callable[[dict[str, Any]], Reply] = default_responder
            self.chat_requests: list[dict[str, Any]] = []
            self.paths: list[str] = []
            self.in_flight = 0
            self.max_in_flight = 0
            self.context_length = DEFAULT_CONTEXT_LENGTH
            self.loads: list[dict[str, Any]] = []
            self.reloads = 0
            self._loaded: dict[str, dict[str, Any]] = {}
        self.server.clear_log()

    # HTTP

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.paths.append(f"{request.method} {request.path}")
        route = (request.method, request.path)
        if route == ("POST", "/api/chat"):
            return self._chat(request.get_json(force=True))
        if route == ("POST", "/api/generate"):
            return self._generate(request.get_json(force=True))
        if route == ("GET", "/api/ps"):
            return _json({"models": [self._running(name) for name in self._loaded]})
        if route == ("GET", "/api/tags"):
            return _json({"models": [self._model_entry(name) for name in self.models]})
        if route == ("POST", "/api/show"):
            return self._show(request.get_json(force=True))
        if route == ("GET", "/api/version"):
            return _json({"version": "0.12.3"})
        return _json({"error": "404 page not found"}, 404)

    def _model_entry(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "model": name,
            "modified_at": "2026-01-01T00:00:00Z",
            "size": 13_793_441_244,
            "digest": self.models[name].removeprefix("sha256:"),
            "details": {"format": "gguf", "family": name.split(":")[0], "parameter_size": "20.9B"},
        }

    def _running(self, name: str) -> dict[str, Any]:
        entry = self._model_entry(name)
        return {
            **entry,
            "expires_at": "2026-01-02T00:00:00Z",
            "size_vram": entry["size"],
            "context_length": self._loaded[name]["num_ctx"],
        }

    def _load(self, path: str, model: str, body: dict[str, Any]) -> None:
        """Record the load-time options of a request, and whether they reload its model."""
        options = body.get("options") or {}
        state = {name: options.get(name) for name in LOAD_OPTIONS}
        state["num_ctx"] = state["num_ctx"] or self.context_length
        with self._lock:
            self.loads.append({"path": path, "model": model, **state})
            if model in self._loaded and self._loaded[model] != state:
                self.reloads += 1
            self._loaded[model] = state

    def _generate(self, body: dict[str, Any]) -> Response:
        model = body.get("model", "")
        if model not in self.models:
            return _json({"error": f'model "{model}" not found, try pulling it first'}, 404)
        self._load("/api/generate", model, body)
        created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return _json(
            {"model": model, "created_at": created, "response": "", "done": True,
             "done_reason": "load"}
        )  # fmt: skip

    def _show(self, body: dict[str, Any]) -> Response:
        name = body.get("model") or body.get("name") or ""
        if name not in self.models:
            return _json({"error": f'model "{name}" not found'}, 404)
        return _json(
            {
                "modelfile": f"FROM {name}",
                "parameters": "temperature 1",
                "template": "{{ .Prompt }}",
                "details": self._model_entry(name)["details"],
                "model_info": {"general.architecture": name.split(":")[0]},
                "capabilities": ["completion", "thinking"] if "gpt-oss" in name else ["completion"],
            }
        )

    def _chat(self, body: dict[str, Any]) -> Response:
        with self._lock:
            self.chat_requests.append(body)
            reply = self.reply or self.responder(body)
        model = body.get("model", "")
        if model not in self.models:
            return _json({"error": f'model "{model}" not found, try pulling it first'}, 404)
        if reply.status != 200:
            return _json({"error": reply.error}, reply.status)
        self._load("/api/chat", model, body)
        chunks = self._chunks(model, reply, body, self._stop)
        return Response(_lines(chunks), mimetype="application/x-ndjson")

    def _chunks(
        self, model: str, reply: Reply, body: dict[str, Any], stop: threading.Event
    ) -> Generator[dict[str, Any] | str, None, None]:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.first_byte_delay and stop.wait(reply.first_byte_delay):
                return
            started = time.perf_counter_ns()
            pace = _Pace(reply, stop)
            for word in _WORDS.findall(reply.thinking):
                if not pace.before():
                    return
                yield _chunk(model, "", thinking=word)
                if not pace.after():
                    return
            words = _WORDS.findall(reply.text)
            for count, word in enumerate(words):
                if not pace.before():
                    return
                if reply.error_after is not None and count >= reply.error_after:
                    yield {"error": reply.error}
                    return
                if reply.bad_line_after is not None and count >= reply.bad_line_after:
                    yield "<html>502 Bad Gateway</html>"
                    return
                yield _chunk(model, word)
                if not pace.after():
                    return
            prompt = sum(len(m.get("content", "")) for m in body.get("messages", []))
            final = _chunk(model, "")
            final.update(
                done=True,
                done_reason=reply.done_reason,
                total_duration=time.perf_counter_ns() - started + 1_000_000,
                load_duration=1_000_000,
                prompt_eval_count=max(1, prompt // 4),
                prompt_eval_duration=5_000_000,
                eval_count=len(words),
                eval_duration=max(1, time.perf_counter_ns() - started),
            )
            yield final
        finally:
            with self._lock:
                self.in_flight -= 1


class _OneWritePerChunk(WSGIRequestHandler):
    wbufsize = -1  # buffered: werkzeug flushes once per chunk


class _Pace:
    """The waits around each chunk: before it, until its time at `tokens_per_second` from
    the first chunk; after it, `chunk_delay`. Each says False once the fake must stop."""

    def __init__(self, reply: Reply, stop: threading.Event) -> None:
        self._reply = reply
        self._stop = stop
        self._sent = 0
        self._first = 0.0

    def before(self) -> bool:
        sent, rate = self._sent, self._reply.tokens_per_second
        self._sent += 1
        if sent == 0:
            self._first = time.perf_counter()
            return True
        return not rate or self._wait(self._first + sent / rate - time.perf_counter())

    def after(self) -> bool:
        return self._wait(self._reply.chunk_delay)

    def _wait(self, seconds: float) -> bool:
        return not (seconds > 0 and self._stop.wait(seconds))


def _chunk(model: str, content: str, thinking: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinking"] = thinking
    created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {"model": model, "created_at": created, "message": message, "done": False}


def _lines(chunks: Generator[dict[str, Any] | str, None, None]) -> Iterator[bytes]:
    try:
        for chunk in chunks:
            line = chunk if isinstance(chunk, str) else json.dumps(chunk)
            yield (line + "\n").encode()
    finally:
        chunks.close()  # a client that hung up: the chunks' clean-up runs now


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")
