"""Where votes are kept: SQLite (the default, nothing to install) or PostgreSQL (DATABASE_URL,
app/postgres.py, imported only then).

One short-lived connection per call: a database that goes away and comes back needs no
reconnect logic, and /ready asks the database itself rather than a cached state. The schema
is created on the first call that reaches the database, not at start-up, so the service
starts (and is alive) while its database is still down.
"""

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, Protocol, get_args

Choice = Literal["cats", "dogs"]
CHOICES: tuple[Choice, ...] = get_args(Choice)


class StoreUnavailable(Exception):
    """The database cannot be reached or refused the operation (the message has no secrets)."""


class Store(Protocol):
    """What the API needs from a database."""

    def describe(self) -> str:
        """What and where, for the start-up log line (no credentials)."""
        ...

    def ping(self) -> None:
        """Reach the database (and make sure the schema exists); raise StoreUnavailable."""
        ...

    def add_vote(self, choice: Choice) -> None: ...

    def results(self) -> dict[Choice, int]: ...


def tally(rows: list[tuple[str, int]]) -> dict[Choice, int]:
    found = {str(choice): int(n) for choice, n in rows}
    return {choice: found.get(choice, 0) for choice in CHOICES}


class SQLiteStore:
    """Votes in a SQLite file (WAL mode); its directory must be writable (a volume)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._schema_ready = False
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        except OSError:
            pass  # connect() says what is wrong
        try:
            conn = sqlite3.connect(self.path, timeout=5.0)
        except sqlite3.Error as e:
            raise StoreUnavailable(f"cannot open {self.path}: {e}") from None
        try:
            with self._lock:
                if not self._schema_ready:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS votes ("
                        " id INTEGER PRIMARY KEY,"
                        " choice TEXT NOT NULL CHECK (choice IN ('cats', 'dogs')),"
                        " created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
                    )
                    conn.commit()
                    self._schema_ready = True
            yield conn
            conn.commit()
        except sqlite3.Error as e:
            raise StoreUnavailable(f"sqlite {self.path}: {e}") from None
        finally:
            conn.close()

    def describe(self) -> str:
        return f"sqlite {sqlite3.sqlite_version} at {self.path}"

    def ping(self) -> None:
        with self._connect() as conn:
            conn.execute("SELECT 1 FROM votes LIMIT 1").fetchall()

    def add_vote(self, choice: Choice) -> None:
        with self._connect() as conn:
            conn.execute("INSERT INTO votes (choice) VALUES (?)", (choice,))

    def results(self) -> dict[Choice, int]:
        with self._connect() as conn:
            return tally(conn.execute("SELECT choice, count(*) FROM votes GROUP BY choice").fetchall())


def first_line(e: BaseException) -> str:
    """The first line of an error's message (libpq's carry hints on further lines)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def open_store(database_url: str | None, db_path: str, connect_timeout: int = 2) -> Store:
    """PostgreSQL when a URL is given, else SQLite at `db_path`. Connects lazily.

    Raises ImportError when a URL is given and psycopg cannot be loaded (no libpq).
    """
    if database_url:
        from .postgres import PostgresStore

        return PostgresStore(database_url, connect_timeout)
    return SQLiteStore(db_path)
