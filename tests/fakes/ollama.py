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
        ollama.reset()                   # back to defaults; ends streams still running

`Reply` fields: `text` (streamed one word per chunk), `thinking` (gpt-oss `thinking`
chunks sent first), `error_after` / `error` (an `{"error": ...}` line after that many
content chunks, as Ollama does when a runner dies mid-stream), `first_byte_delay`
(seconds before anything is sent: a slow model), `chunk_delay` (seconds between chunks),
`status` (answer that HTTP status with `{"error": ...}` instead of streaming).

Endpoints: POST /api/chat (an NDJSON stream whose last chunk has done=true,
prompt_eval_count, eval_count and eval_duration in ns), GET /api/tags, POST /api/show,
GET /api/version. A model not in `models`
gets 404 `model "x" not found, try pulling it first` from /api/chat and /api/show.
Anything else (for instance /api/pull) gets 404 and is still recorded in `paths`.
By default a request with a `format` (a JSON schema) gets `rating_json()`, any other
request a short section text. For a refused connection, use `refused_url()`.
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

DEFAULT_MODELS = {
    "gpt-oss:20b": "sha256:aa4295ac10c3afb60e6d711289fc6896f5aef82258997b9efdaed6d0cc4cd8b8",
    "llama3.1:8b": "sha256:46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
}
DEFAULT_TEXT = "Revenue reached $391.0B while the shares trade at 29.5x earnings."
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
    first_byte_delay: float = 0.0
    chunk_delay: float = 0.0
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
        self.server.clear_log()

    # HTTP

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.paths.append(f"{request.method} {request.path}")
        route = (request.method, request.path)
        if route == ("POST", "/api/chat"):
            return self._chat(request.get_json(force=True))
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
        chunks = self._chunks(model, reply, body, self._stop)
        return Response(_lines(chunks), mimetype="application/x-ndjson")

    def _chunks(
        self, model: str, reply: Reply, body: dict[str, Any], stop: threading.Event
    ) -> Generator[dict[str, Any], None, None]:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.first_byte_delay and stop.wait(reply.first_byte_delay):
                return
            started = time.perf_counter_ns()
            for word in _WORDS.findall(reply.thinking):
                yield _chunk(model, "", thinking=word)
                if reply.chunk_delay and stop.wait(reply.chunk_delay):
                    return
            words = _WORDS.findall(reply.text)
            for count, word in enumerate(words):
                if reply.error_after is not None and count >= reply.error_after:
                    yield {"error": reply.error}
                    return
                yield _chunk(model, word)
                if reply.chunk_delay and stop.wait(reply.chunk_delay):
                    return
            prompt = sum(len(m.get("content", "")) for m in body.get("messages", []))
            final = _chunk(model, "")
            final.update(
                done=True,
                done_reason="stop",
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


def _chunk(model: str, content: str, thinking: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinking"] = thinking
    created = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {"model": model, "created_at": created, "message": message, "done": False}


def _lines(chunks: Generator[dict[str, Any], None, None]) -> Iterator[bytes]:
    try:
        for chunk in chunks:
            yield (json.dumps(chunk) + "\n").encode()
    finally:
        chunks.close()  # a client that hung up: the chunks' clean-up runs now


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")
