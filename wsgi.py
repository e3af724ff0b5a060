"""gunicorn entry (`wsgi:app`) for `gunicorn --worker-class eventlet -w 1 ... wsgi:app`.

monkey_patch() must run before anything imports socket, ssl or threading. This and
frontend_app/green.py are the only places that know about eventlet: moving to
gevent means changing these two lines.
"""

import eventlet

eventlet.monkey_patch()

from frontend_app import create_app  # noqa: E402
from frontend_app.logs import configure_logging  # noqa: E402

configure_logging()
app = create_app(serving=True)
