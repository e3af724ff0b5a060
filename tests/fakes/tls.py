"""TLS for tests: a certificate of its own (as the GPU tier makes on first start), and an
impostor server that records every byte a client sends it after the handshake."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import pytest

from vast_ai.tls import CERT_FILE, KEY_FILE, ensure_certificate


@contextmanager
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A new certificate: (its fingerprint, uvicorn's `ssl_certfile`/`ssl_keyfile`)."""
    folder = tmp_path_factory.mktemp("tls")
    pin, _ = ensure_certificate(folder)
    yield pin, {"ssl_certfile": str(folder / CERT_FILE), "ssl_keyfile": str(folder / KEY_FILE)}


class TlsRecorder:
    """Accepts TLS connections on 127.0.0.1 with its certificate and keeps what clients send
    (`received`); a client that completes the handshake and sends a request gets a 200
    saying "healthy"."""

    def __init__(self, ssl_certfile: str, ssl_keyfile: str, port: int = 0) -> None:
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(ssl_certfile, ssl_keyfile)
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.received = b""
        self.handshakes = 0

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> TlsRecorder:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._talk, args=(raw,), daemon=True).start()

    def _talk(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            with self._context.wrap_socket(raw, server_side=True) as conn:
                self.handshakes += 1
                data = conn.recv(65536)
                self.received += data
                if data:
                    body = b'{"status": "healthy"}'
                    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n"
                    conn.sendall(head.encode() + body)
        except (OSError, ssl.SSLError):
            pass  # the client refused the certificate: what a pinning client does
        finally:
            raw.close()
