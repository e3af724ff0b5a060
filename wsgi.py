"""gunicorn entry (`wsgi:app`) for `gunicorn --worker-class eventlet -w 1 ... wsgi:app`.

monkey_patch() must run before anything imports socket, ssl or threading. This and
frontend_app/green.py are the only places that know about eventlet: moving to
gevent means changing these two lines.
"""

import eventlet

eventlet.monkey_patch()

import logging  # noqa: E402

from frontend_app import create_app  # noqa: E402
from frontend_app.logs import configure_logging  # noqa: E402
from frontend_app.parts import freeze_startup_objects  # noqa: E402
from frontend_app.settings import ConfigError  # noqa: E402

# gunicorn's exit status for "App failed to load": it stops instead of starting a new worker.
APP_LOAD_ERROR = 4

configure_logging()
try:
    app = create_app(serving=True)
except ConfigError as exc:  # a setting to fix: its one line, not a stack trace
    logging.getLogger("frontend_app").critical("ERT cannot start: %s", exc)
    raise SystemExit(APP_LOAD_ERROR) from None
freeze_startup_objects()
