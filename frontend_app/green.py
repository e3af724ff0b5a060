"""Run blocking calls without stalling a green-threaded server.

gunicorn's eventlet worker monkey-patches Python's sockets, but not C libraries:
curl_cffi (inside yfinance) blocks the OS thread, and with it every green thread.
`run_blocking` hands such a call to the green library's pool of real OS threads
when the process has been monkey-patched, and simply calls it otherwise (tests,
scripts, a threaded server). `green_library` names the patched library for the
few C libraries that can do this themselves, call by call: curl_cffi's
`Session(thread=...)` takes exactly these names (frontend_app/market/yahoo.py).

This is the only module besides wsgi.py that touches the green library, and it
never imports one itself: it looks in `sys.modules` for the library wsgi.py
patched with. Moving from eventlet to gevent needs no change here, only the
`monkey_patch()` line in wsgi.py.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")

Offload = Callable[..., Any]
GreenLibrary = Literal["eventlet", "gevent"]


def _eventlet_patched() -> bool:
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and bool(patcher.is_monkey_patched("socket"))


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("socket"))


def green_library() -> GreenLibrary | None:
    """The name of the green library the process is monkey-patched with, or None."""
    if _eventlet_patched():
        return "eventlet"
    if _gevent_patched():
        return "gevent"
    return None


def green_offload() -> Offload | None:
    """The patched green library's "run in a real thread" function, or None if unpatched."""
    library = green_library()
    if library == "eventlet":
        execute: Offload = importlib.import_module("eventlet.tpool").execute
        return execute
    if library == "gevent":
        hub = sys.modules["gevent"].get_hub()
        return lambda func, *args, **kwargs: hub.threadpool.apply(func, args, kwargs)
    return None


def run_blocking(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Call `func(*args, **kwargs)` in a real OS thread if green threads are in use.

    Exceptions raised by `func` propagate to the caller either way. Under monkey-
    patching, every lock created after the patch is green (the library's own, and
    the standard library's: logging, http.cookiejar, ...) and only works among green
    threads of one OS thread; a green lock contended from two real threads deadlocks.
    So hand over one self-contained batch of work, never several calls at once that
    share a library's state (yfinance's session, caches and loggers) from several
    real threads. For parallel calls into such a library, keep them in green threads
    and let its C part go to real threads call by call if it can (`green_library`).
    """
    offload = green_offload()
    if offload is None:
        return func(*args, **kwargs)
    return cast(R, offload(func, *args, **kwargs))
