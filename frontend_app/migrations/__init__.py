"""The database's schema, changed only through Alembic revisions (versions/).

`upgrade` brings a database to the newest revision; the dashboard runs it at start
(frontend_app.create_app) and `python -m frontend_app.migrations` runs it alone (for a
pre-deploy step). A database made before ERT used Alembic (tables made by SQLAlchemy's
create_all, no `alembic_version`) holds exactly the first revision's schema: it is
stamped with that revision first, then upgraded like any other.

A new revision is a file in versions/ numbered after the last, written by hand;
tests/frontend_app/test_migrations.py checks that the newest matches the models.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

HERE = Path(__file__).resolve().parent
FIRST_REVISION = "0001"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest)."""
    config = alembic_config(engine)
    tables = set(inspect(engine).get_table_names())
    if "reports" in tables and "alembic_version" not in tables:
        command.stamp(config, FIRST_REVISION)
    command.upgrade(config, revision)
