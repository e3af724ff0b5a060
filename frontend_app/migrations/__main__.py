"""`python -m frontend_app.migrations`: bring the dashboard's database (DATABASE_URL, or
the default SQLite file) to the newest schema, as the dashboard does at start."""

from frontend_app.database import connect
from frontend_app.settings import Settings

from . import upgrade

engine = connect(Settings.from_env())
upgrade(engine)
engine.dispose()
print("ERT database: schema up to date")
