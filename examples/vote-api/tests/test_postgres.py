"""The PostgreSQL store against a real server: VOTE_TEST_DATABASE_URL (skipped without it).

The database it names is the tests' own: its `votes` table is dropped before each test.
"""

import json
import os
import threading
import unittest
from urllib.parse import urlsplit, urlunsplit

import psycopg
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.postgres import PostgresStore
from app.store import StoreUnavailable

from .helpers import Server, raw_request

URL = os.environ.get("VOTE_TEST_DATABASE_URL", "")


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@unittest.skipUnless(URL, "VOTE_TEST_DATABASE_URL is not set (a PostgreSQL database to test against)")
class PostgresTest(unittest.TestCase):
    def setUp(self) -> None:
        with psycopg.connect(URL, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS votes")

    def client(self) -> TestClient:
        client = TestClient(create_app(Settings(database_url=URL)))
        client.__enter__()
        self.addCleanup(client.__exit__, None, None, None)
        return client

    def table_exists(self) -> bool:
        with psycopg.connect(URL) as conn:
            row = conn.execute("SELECT to_regclass('public.votes') IS NOT NULL").fetchone()
            return bool(row and row[0])

    def test_ready_creates_the_schema(self) -> None:
        client = self.client()
        self.assertFalse(self.table_exists())
        r = client.get("/ready")
        self.assertEqual((r.status_code, r.json()), (200, {"status": "ready"}))
        self.assertTrue(self.table_exists())
        self.assertEqual(client.head("/ready").status_code, 200)

    def test_votes_are_counted_across_replicas(self) -> None:
        a, b = self.client(), self.client()
        for client, choice in ((a, "cats"), (b, "cats"), (a, "dogs"), (b, "cats")):
            r = client.post("/api/vote", json={"choice": choice})
            self.assertEqual(r.status_code, 201, r.text)
        for client in (a, b):
            self.assertEqual(client.get("/api/results").json(), {"cats": 3, "dogs": 1, "total": 4})
        self.assertEqual(a.post("/api/vote", json={"choice": "rabbits"}).status_code, 422)

    def test_the_table_itself_refuses_other_choices(self) -> None:
        PostgresStore(URL).ping()
        with psycopg.connect(URL) as conn, self.assertRaises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO votes (choice) VALUES ('birds')")

    def test_replicas_starting_together_create_the_schema_once(self) -> None:
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def first_use() -> None:
            store = PostgresStore(URL)
            barrier.wait()
            try:
                store.ping()
            except BaseException as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)

        threads = [threading.Thread(target=first_use) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertTrue(self.table_exists())

    def test_wrong_password_is_503_and_the_password_is_not_shown(self) -> None:
        wrong = with_password(URL, "not-the-Password-42")
        with self.assertRaises(StoreUnavailable) as cm:
            PostgresStore(wrong).ping()
        self.assertIn("password authentication failed", str(cm.exception))
        self.assertNotIn("not-the-Password-42", str(cm.exception))
        client = TestClient(create_app(Settings(database_url=wrong)))
        with client, self.assertLogs("vote_api", "WARNING") as logs:
            self.assertEqual(client.get("/ready").status_code, 503)
            self.assertEqual(client.post("/api/vote", json={"choice": "cats"}).status_code, 503)
        self.assertNotIn("not-the-Password-42", "\n".join(logs.output))

    def test_the_real_server(self) -> None:
        server = Server({"DATABASE_URL": URL})
        self.addCleanup(server.close)
        server.wait_healthy()
        self.assertEqual(raw_request(server.port, "GET", "/ready").status, 200)
        self.assertEqual(raw_request(server.port, "POST", "/api/vote", b'{"choice": "dogs"}').status, 201)
        r = raw_request(server.port, "GET", "/api/results")
        self.assertEqual(json.loads(r.body), {"cats": 0, "dogs": 1, "total": 1})
        self.assertEqual(server.stop(), 0)
        self.assertIn("storing votes in postgresql via psycopg", server.output())
