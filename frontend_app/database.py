"""The dashboard's one database (reports, accounts, jobs): a SQLite file by default, any
DATABASE_URL else. Its tables are declared on `Base` by the modules that use them; their
schema is made and changed only by the migrations (frontend_app/migrations)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase

from .errors import DatabaseUnavailable
from .settings import Settings

log = logging.getLogger(__name__)

# What SQLAlchemy raises when the database does not answer (stopped, restarting, out of
# connections), as opposed to a fault in a query.
DOWN: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)


class Base(DeclarativeBase):
    pass


def unavailable(exc: Exception) -> DatabaseUnavailable:
    """What a person is told when the database does not answer (`exc`, one of DOWN); logged
    in one line, without a trace: the database is down, not the code."""
    log.warning("The database does not answer (%s)", type(exc).__name__)
    return DatabaseUnavailable()


def instance_path() -> Path:
    """Flask's instance folder of the dashboard (where the default SQLite file lives)."""
    return Path(Flask("frontend_app", instance_relative_config=True).instance_path)


def connect(settings: Settings) -> Engine:
    """An engine on DATABASE_URL, or on the SQLite file instance/ert.sqlite3."""
    url = settings.database_url
    if url is None:
        folder = instance_path()
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'ert.sqlite3'}"
    sqlite = url.startswith("sqlite")
    connect_args = {"check_same_thread": False} if sqlite else {}
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    """Write-ahead log, synced at checkpoints: a commit (the job log writes several a
    second) costs no fsync, and readers never wait for the writer. A power cut may lose
    the last commits, never corrupt the file."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
