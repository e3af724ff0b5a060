"""ERT's dashboard tier: Flask + Flask-SocketIO, where a person watches a report being written.

`create_app` builds the parts (settings, report store, market data, LLM chain, job
manager with the report pipeline) and hands them to `web`, which serves them.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from flask_socketio import SocketIO

from . import web
from .green import green_library
from .jobs import JobManager
from .jobs.log import JobLog
from .jobs.queue import ReportQueue
from .logs import ErrorsToLog
from .parts import build_parts
from .settings import Settings
from .shared_redis import MessageQueue, connect
from .version import __version__
from .web import signin
from .web.accounts import Accounts
from .web.dashboard import Dashboard
from .web.limits import Limits

__all__ = ["__version__", "create_app"]

log = logging.getLogger(__name__)


def create_app(
    config: Settings | Mapping[str, str] | None = None, *, serving: bool = False
) -> Flask:
    """The app factory. `config`: a Settings, an environment-like mapping, or None (os.environ).
    `serving`: the app will answer a server's requests (wsgi.py), so it refuses to start
    where other machines could reach it and nobody could sign in."""
    settings = config if isinstance(config, Settings) else Settings.from_env(config)
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key.get_secret_value(), MAX_CONTENT_LENGTH=64 * 1024
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # Several instances share Redis: checked first, so a Redis that does not answer stops the
    # start with a message naming REDIS_URL.
    shared = connect(settings.redis_url) if settings.redis_url is not None else None
    # Under a monkey-patched worker let Flask-SocketIO pick the green mode; else threads.
    # With Redis, an event emitted by any instance reaches a browser connected to any other.
    socketio = SocketIO(
        app,
        async_mode=None if green_library() is not None else "threading",
        client_manager=MessageQueue(settings.redis_url) if settings.redis_url else None,
        transports=list(settings.socketio_transports),
    )
    app.wsgi_app = ErrorsToLog(app.wsgi_app)  # type: ignore[method-assign]

    parts = build_parts(
        settings,
        shared,
        start_task=socketio.start_background_task,
        sleep=socketio.sleep,
        report_url=web.report_url(app),
    )
    accounts = Accounts(parts.engine)
    sign_in_required = signin.prepare(settings, accounts, serving=serving)
    # With report workers, this instance only puts the jobs on their queue.
    queue = ReportQueue(shared) if shared is not None and settings.ert_report_workers else None
    jobs = JobManager(
        emit=socketio.emit,
        start_task=socketio.start_background_task,
        sleep=socketio.sleep,
        run=parts.pipeline.run,
        limit=settings.ert_max_concurrent_reports,
        max_waiting=settings.ert_max_queue,
        max_waiting_per_owner=settings.ert_max_waiting_per_user,
        gpu_slots=(lambda: remote.slots) if (remote := parts.remote) is not None else lambda: None,
        log=JobLog(parts.engine),
        retention=settings.ert_job_retention_hours * 3600,
        queue=queue,
    )
    dashboard = Dashboard(
        settings=settings,
        store=parts.store,
        jobs=jobs,
        chain=parts.chain,
        remote=parts.remote,
        market=parts.market,
        accounts=accounts,
        limits=Limits(settings, shared),
        sign_in_required=sign_in_required,
        redis=shared,
    )
    atexit.register(dashboard.close)
    web.register(app, socketio, dashboard)
    jobs.start_keeping()
    log.info(
        "ERT dashboard ready: integrations %s, data source %s",
        [i.name for i in parts.chain.integrations],
        settings.ert_data_source,
    )
    return app
