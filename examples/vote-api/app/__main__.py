"""`python3 -m app`: serve the API with uvicorn, configured from the environment.

- One process, one event loop: scale with replicas (seed 004's choice), not workers.
- SIGTERM/SIGINT: uvicorn stops accepting, lets in-flight requests finish for up to
  SHUTDOWN_TIMEOUT seconds, then exits 0.
- Probe requests (/health, /ready) that succeed are left out of the access log; failures and
  every API request are logged.
"""

import copy
import logging
import signal
import sys
from types import FrameType
from typing import Any

import uvicorn
import uvicorn.config

from .main import create_app
from .settings import SettingsError, from_env

QUIET_PATHS = frozenset({"/health", "/ready"})


class QuietProbes(logging.Filter):
    """Drops uvicorn.access records of successful probes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client, method, path, http version, status)
        if isinstance(args, tuple) and len(args) == 5:
            path, code = args[2], args[4]
            if isinstance(path, str) and path.split("?", 1)[0] in QUIET_PATHS and isinstance(code, int):
                return code >= 400
        return True


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, plus the app's own logger on the same handler and quiet probes."""
    cfg = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    cfg["filters"] = {"quiet_probes": {"()": QuietProbes}}
    cfg["handlers"]["access"]["filters"] = ["quiet_probes"]
    cfg["loggers"]["vote_api"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return cfg


def _exit_now(signum: int, _frame: FrameType | None) -> None:
    # Before uvicorn installs its own handlers: stop at once. After a graceful shutdown
    # uvicorn restores this handler and raises the signal again: the exit status is then 0.
    raise SystemExit(0)


def main() -> int:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_now)
    try:
        settings = from_env()
    except SettingsError as e:
        print(f"vote-api: {e}", file=sys.stderr)
        return 1
    try:
        app = create_app(settings)
    except ImportError as e:  # DATABASE_URL set, psycopg or libpq missing
        print(f"vote-api: cannot use PostgreSQL: {e}", file=sys.stderr)
        return 1
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        lifespan="on",
        ws="none",
        server_header=False,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
