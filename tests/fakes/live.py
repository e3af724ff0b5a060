"""Run an ASGI app on uvicorn on a free loopback port, in a thread (tests and benchmarks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@contextmanager
def serve(app: ASGIApp, **options: Any) -> Iterator[str]:
    """Run `app` on uvicorn on a free loopback port in a thread; yield its base URL.

    `options` go to `uvicorn.Config`: `ssl_certfile` and `ssl_keyfile` serve HTTPS.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if config.is_ssl else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
