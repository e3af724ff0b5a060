"""The schema's migrations (frontend_app/migrations), on SQLite and PostgreSQL: the newest
revision is what the models declare, and a database of the first revision (or made by
create_all before migrations) is upgraded with its reports still there to open and export."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from frontend_app import create_app, migrations
from frontend_app.database import Base
from frontend_app.jobs.log import JobRow  # noqa: F401  (its tables on Base)
from frontend_app.reports.store import ReportStore
from frontend_app.web.accounts import Accounts
from tests.fakes.reports import store_hostile_report
from tests.frontend_app.conftest import BASE_ENV, sign_in


def test_the_newest_revision_is_the_models_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    migrations.upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def _first_revision_with_a_report(database_url: str, *, legacy: bool) -> str:
    """A database at the first revision holding a report and an account: the report's id.
    `legacy`: as create_all made it, with no record of migrations."""
    engine = create_engine(database_url)
    migrations.upgrade(engine, migrations.FIRST_REVISION)
    assert "jobs" not in inspect(engine).get_table_names()
    report_id = store_hostile_report(ReportStore(engine), "Rates **rise**.", "Hold on.")
    Accounts(engine).add("old@example.com", "a password of old times")
    if legacy:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    return report_id


def _opens_and_exports(database_url: str, report_id: str) -> None:
    app = create_app({**BASE_ENV, "DATABASE_URL": database_url})
    try:
        # The old account still signs in (with an account, sign-in is on).
        http, _ = sign_in(app, "old@example.com", "a password of old times")
        page = http.get(f"/reports/{report_id}")
        assert page.status_code == 200
        assert "Rates <strong>rise</strong>." in page.get_data(as_text=True)
        markdown = http.get(f"/reports/{report_id}.md").get_data(as_text=True)
        assert "Rates **rise**." in markdown
        pdf = http.get(f"/reports/{report_id}.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        assert [r["id"] for r in http.get("/api/reports").get_json()["reports"]] == [report_id]
        assert "jobs" in inspect(app.extensions["ert"].store.engine).get_table_names()
    finally:
        app.extensions["ert"].close()


def test_a_database_of_the_first_revision_is_upgraded_with_its_reports(database_url: str) -> None:
    report_id = _first_revision_with_a_report(database_url, legacy=False)
    _opens_and_exports(database_url, report_id)


def test_a_database_made_before_migrations_is_upgraded_with_its_reports(
    database_url: str,
) -> None:
    report_id = _first_revision_with_a_report(database_url, legacy=True)
    _opens_and_exports(database_url, report_id)


def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    engine = create_engine(database_url)
    migrations.upgrade(engine)
    migrations.upgrade(engine)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0002"
    engine.dispose()
