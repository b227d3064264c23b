"""Configuration from the environment, checked once at start-up.

Every problem is one line naming the variable; DATABASE_URL's value is never echoed (it
usually carries a password).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_PORT = 8000
DEFAULT_DB_PATH = "/var/lib/vote-api/votes.db"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


class SettingsError(ValueError):
    """A variable of the environment is malformed."""


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    # PostgreSQL when set (postgresql://user:password@host:5432/db), else SQLite at db_path
    database_url: str | None = None
    db_path: str = DEFAULT_DB_PATH
    # seconds to wait for PostgreSQL to answer a connection (libpq's minimum is 2)
    db_connect_timeout: int = 2
    log_level: str = "info"
    # seconds uvicorn lets in-flight requests finish after SIGTERM before cancelling them;
    # keep it below the init's shutdown grace (and that below terminationGracePeriodSeconds)
    shutdown_timeout: int = 15


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be an integer from {low} to {high}, got {raw!r}")
    return int(raw)


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` (default: os.environ); raises SettingsError."""
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "").strip() or None
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise SettingsError("DATABASE_URL must be a postgresql:// or postgres:// URL")
    db_path = env.get("VOTE_DB_PATH", "").strip() or DEFAULT_DB_PATH
    if not os.path.isabs(db_path):
        raise SettingsError(f"VOTE_DB_PATH must be an absolute path, got {db_path!r}")
    level = env.get("LOG_LEVEL", "").strip().lower() or "info"
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return Settings(
        host=env.get("HOST", "").strip() or "0.0.0.0",
        port=_int(env, "PORT", DEFAULT_PORT, 1, 65535),
        database_url=url,
        db_path=db_path,
        db_connect_timeout=_int(env, "DB_CONNECT_TIMEOUT", 2, 2, 60),
        log_level=level,
        shutdown_timeout=_int(env, "SHUTDOWN_TIMEOUT", 15, 1, 3600),
    )
