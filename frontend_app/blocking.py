"""Run blocking calls without stalling a green-threaded server.

gunicorn's eventlet worker monkey-patches Python's sockets, but not C libraries:
curl_cffi (inside yfinance) blocks the OS thread, and with it every green thread.
`run_blocking` hands such a call to the green library's pool of real OS threads
when the process has been monkey-patched, and simply calls it otherwise (tests,
scripts, a threaded server).

This is the only module besides wsgi.py that touches the green library, and it
never imports one itself: it looks in `sys.modules` for the library wsgi.py
patched with. Moving from eventlet to gevent needs no change here, only the
`monkey_patch()` line in wsgi.py.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

Offload = Callable[..., Any]


def _eventlet_offload() -> Offload | None:
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is None or not patcher.is_monkey_patched("socket"):
        return None
    return importlib.import_module("eventlet.tpool").execute


def _gevent_offload() -> Offload | None:
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("socket"):
        return None
    hub = sys.modules["gevent"].get_hub()
    return lambda func, *args, **kwargs: hub.threadpool.apply(func, args, kwargs)


def green_offload() -> Offload | None:
    """The patched green library's "run in a real thread" function, or None if unpatched."""
    return _eventlet_offload() or _gevent_offload()


def run_blocking(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Call `func(*args, **kwargs)` in a real OS thread if green threads are in use.

    Exceptions raised by `func` propagate to the caller either way. Under monkey-
    patching, locks are green and only work among green threads of one OS thread:
    hand over one self-contained batch of work, not many calls that share a library's
    locks from several real threads at once (they can deadlock).
    """
    offload = green_offload()
    if offload is None:
        return func(*args, **kwargs)
    return offload(func, *args, **kwargs)
