"""The GPU tier's ASGI app: `uvicorn vast_ai.app:app`, or `create_app(settings)` in code.

`app` is built on first access, so importing this module (for `create_app`) needs no
environment; uvicorn's access to `app` without ERT_API_KEY exits with a clear message.
"""

from __future__ import annotations

from fastapi import FastAPI

from vast_ai import __version__
from vast_ai.auth import RequireApiKey
from vast_ai.body_limit import BodyLimit
from vast_ai.engines import build_engine
from vast_ai.engines.base import Engine
from vast_ai.errors import install_error_handlers
from vast_ai.observability import MetricsMiddleware
from vast_ai.routes import protected, router
from vast_ai.service import Service
from vast_ai.settings import Settings, get_settings


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app for `settings` (default: the environment) and `engine` (default: ERT_ENGINE's)."""
    settings = settings or get_settings()
    # The engine lives as long as the process: it is not closed on lifespan shutdown, so an
    # app whose lifespan is restarted (test clients do that) keeps working.
    service = Service(settings, engine or build_engine(settings))
    app = FastAPI(
        title="ERT GPU tier",
        version=__version__,
        description="Writes equity research reports with an LLM. Every path but /health "
        "(these docs and the schema too) needs `Authorization: Bearer <ERT_API_KEY>`.",
    )
    app.state.service = service
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(protected)
    # The last added runs first: metrics, then the key, then the body is read.
    app.add_middleware(BodyLimit, timeout=settings.ert_body_timeout)
    app.add_middleware(RequireApiKey, api_key=settings.ert_api_key.get_secret_value())
    app.add_middleware(MetricsMiddleware, metrics=service.metrics)
    return app


_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        _app = create_app()
    return _app
