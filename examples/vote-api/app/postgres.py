"""The PostgreSQL store, through psycopg 3 (Debian's python3-psycopg).

psycopg's C implementation (python3-psycopg-c) is linked against libpq. Its pure-Python one
finds libpq with ctypes.util.find_library, which asks /sbin/ldconfig, gcc or ld: none is in a
shell-free image, so there it fails with "libpq library not found". The image ships the C one.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from .store import Choice, StoreUnavailable, first_line, tally


class PostgresStore:
    """Votes in PostgreSQL through psycopg 3 (Debian's python3-psycopg, on libpq)."""

    def __init__(self, url: str, connect_timeout: int = 2) -> None:
        self._url = url
        self._connect_timeout = connect_timeout
        self._schema_ready = False

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        try:
            conn = psycopg.connect(
                self._url,
                connect_timeout=self._connect_timeout,
                application_name="vote-api",
                autocommit=True,
            )
        except psycopg.Error as e:
            # libpq names host and port, never the password
            raise StoreUnavailable(f"postgresql: {first_line(e)}") from None
        try:
            with conn:
                if not self._schema_ready:
                    with conn.transaction():
                        # replicas starting together must not race on CREATE TABLE
                        conn.execute("SELECT pg_advisory_xact_lock(hashtext('vote-api schema'))")
                        conn.execute(
                            "CREATE TABLE IF NOT EXISTS votes ("
                            " id bigserial PRIMARY KEY,"
                            " choice text NOT NULL CHECK (choice IN ('cats', 'dogs')),"
                            " created_at timestamptz NOT NULL DEFAULT now())"
                        )
                    self._schema_ready = True
                yield conn
        except psycopg.Error as e:
            raise StoreUnavailable(f"postgresql: {first_line(e)}") from None

    def describe(self) -> str:
        pq = psycopg.pq
        return f"postgresql via psycopg {psycopg.__version__} ({pq.__impl__}, libpq {pq.version()})"

    def ping(self) -> None:
        with self._connect() as conn:
            conn.execute("SELECT 1 FROM votes LIMIT 1").fetchall()

    def add_vote(self, choice: Choice) -> None:
        with self._connect() as conn:
            conn.execute("INSERT INTO votes (choice) VALUES (%s)", (choice,))

    def results(self) -> dict[Choice, int]:
        with self._connect() as conn:
            return tally(conn.execute("SELECT choice, count(*) FROM votes GROUP BY choice").fetchall())
