"""gunicorn's settings file, read from the working directory, as Render and `make run` start
gunicorn (the start command itself is in render.yaml and DESIGN.md). It imports nothing of
the app: the worker monkey-patches first.

- It tells the dashboard where gunicorn listens (ERT_BIND, from --bind), so the dashboard
  knows whether other machines can reach it and sign-in is required
  (frontend_app/web/signin.py).
- It keeps the log to what a person should read: eventlet and gunicorn's eventlet worker
  announce at every start that they are deprecated. ERT knows (README: "Why one worker";
  gunicorn stays below 26, and moving to gevent is one line in wsgi.py), so both notices
  are dropped here, once. gunicorn's control socket (for `gunicornc`, unused by ERT) is
  off: it would be one shared path in $HOME for every gunicorn of the user, and logs its
  path at each stop.
"""

import logging
import os
import warnings
from typing import Any

control_socket_disable = True

# eventlet's own notice, raised when gunicorn imports its eventlet worker.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="The eventlet worker is deprecated")


class _DropEventletNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "eventlet worker is DEPRECATED" not in record.getMessage()


def on_starting(server: Any) -> None:
    """In the master, before it binds and forks the workers (which inherit the variable)."""
    os.environ["ERT_BIND"] = ",".join(server.cfg.bind)


def post_fork(server: Any, worker: Any) -> None:
    """Before the worker starts (and logs its deprecation notice)."""
    worker.log.error_log.addFilter(_DropEventletNotice())
