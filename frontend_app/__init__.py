"""ERT's dashboard tier: Flask + Flask-SocketIO, where a person watches a report being written."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, Response
from flask_socketio import SocketIO

from .blocking import green_offload
from .jobs import JobManager
from .llm.factory import build_chain
from .market import MarketDataService
from .report_job import ReportServices, run_report_job
from .services import Dashboard
from .settings import Settings
from .socket_events import register_socket_events
from .store import ReportStore
from .version import __version__
from .views import api, errors, pages

__all__ = ["__version__", "create_app"]

log = logging.getLogger(__name__)

# Everything comes from the app itself; report text is sanitised, and this is the second fence.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def create_app(config: Settings | Mapping[str, str] | None = None) -> Flask:
    """The app factory. `config`: a Settings, an environment-like mapping, or None (os.environ)."""
    settings = config if isinstance(config, Settings) else Settings.from_env(config)
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key.get_secret_value(), MAX_CONTENT_LENGTH=64 * 1024
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # Under a monkey-patched worker let Flask-SocketIO pick the green mode; else threads.
    async_mode = None if green_offload() is not None else "threading"
    socketio = SocketIO(app, async_mode=async_mode)

    database_url = settings.database_url or f"sqlite:///{Path(app.instance_path) / 'ert.sqlite3'}"
    store = ReportStore(database_url)
    chain, remote = build_chain(
        settings, start_task=socketio.start_background_task, sleep=socketio.sleep
    )
    market = MarketDataService(source=settings.ert_data_source)
    services = ReportServices(settings=settings, store=store, market=market, chain=chain)
    jobs = JobManager(
        emit=lambda name, payload, room: socketio.emit(name, payload, to=room),
        start_task=socketio.start_background_task,
        sleep=socketio.sleep,
        run=lambda reporter: run_report_job(reporter, services),
        limit=settings.ert_max_concurrent_reports,
    )
    app.extensions["ert"] = Dashboard(
        settings=settings,
        socketio=socketio,
        store=store,
        jobs=jobs,
        chain=chain,
        remote=remote,
        market=market,
    )

    app.after_request(_security_headers)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    register_socket_events(socketio, app.extensions["ert"])
    log.info(
        "ERT dashboard ready: integrations %s, data source %s",
        [i.name for i in chain.integrations],
        settings.ert_data_source,
    )
    return app
