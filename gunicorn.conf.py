"""gunicorn reads this file from the directory it starts in (the repository root, on Render
and in `make run`); the start command itself is in render.yaml and DESIGN.md.

It only keeps the log to what a person should read:
- eventlet and gunicorn's eventlet worker announce at every start that they are
  deprecated. ERT knows (README: "Why one worker"; gunicorn stays below 26, and moving
  to gevent is one line in wsgi.py), so both notices are dropped here, once.
- gunicorn's control socket (for `gunicornc`, unused by ERT) is off: it would be one
  shared path in $HOME for every gunicorn of the user, and logs its path at each stop.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

control_socket_disable = True

# eventlet's own notice, raised when gunicorn imports its eventlet worker.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="The eventlet worker is deprecated")


class _DropEventletNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "eventlet worker is DEPRECATED" not in record.getMessage()


def post_fork(server: Any, worker: Any) -> None:
    """Before the worker starts (and logs its deprecation notice)."""
    worker.log.error_log.addFilter(_DropEventletNotice())
