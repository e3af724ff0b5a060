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
- SIGTERM (Render stops or redeploys the service): the worker first lets its running
  reports finish, for up to ERT_SHUTDOWN_GRACE seconds, and hands the rest to the next
  process (frontend_app/jobs/manager.py); only then does gunicorn's own graceful stop
  begin, with a few seconds for the open connections (browsers reconnect to the next
  process). The master waits that long before it kills the worker (graceful_timeout).
"""

import logging
import os
import signal
import warnings
from typing import Any

control_socket_disable = True

# frontend_app.settings.SHUTDOWN_GRACE: ERT_SHUTDOWN_GRACE's default.
SHUTDOWN_GRACE = float(os.environ.get("ERT_SHUTDOWN_GRACE") or 100)
# Seconds the open connections get once the reports are settled.
CONNECTIONS_GRACE = 5
graceful_timeout = int(SHUTDOWN_GRACE) + 2 * CONNECTIONS_GRACE

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


def post_worker_init(worker: Any) -> None:
    """Once the app is loaded: SIGTERM settles the reports first (see above)."""
    jobs = worker.wsgi.extensions["ert"].jobs
    grace = worker.wsgi.extensions["ert"].settings.ert_shutdown_grace
    exit_worker = worker.handle_exit

    def settled(sig: int, frame: Any) -> None:
        worker.cfg.set("graceful_timeout", CONNECTIONS_GRACE)
        exit_worker(sig, frame)

    def on_sigterm(sig: int, frame: Any) -> None:
        worker.log.info("Stopping: running reports get up to %.0f s to finish", grace)
        jobs.close_then(grace, lambda: settled(sig, frame))

    signal.signal(signal.SIGTERM, on_sigterm)
