"""The API in-process (fastapi.testclient), on SQLite and on a PostgreSQL that cannot be reached."""

import os

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

from .helpers import UNREACHABLE_URL, TempDirTest

INVALID_JSON_BODIES: list[object] = [
    {},
    {"choice": "birds"},
    {"choice": "Cats"},
    {"choice": "cats "},
    {"choice": ""},
    {"choice": 1},
    {"choice": None},
    {"choice": True},
    {"choice": ["cats"]},
    {"choice": {"cats": 1}},
    {"vote": "cats"},
    {"choice": "cats", "extra": 1},
    ["cats"],
    "cats",
    None,
    42,
]


class SQLiteApiTest(TempDirTest):
    def setUp(self) -> None:
        super().setUp()
        # a directory that does not exist yet: the store creates it (an emptyDir starts empty)
        self.db_path = os.path.join(self.tmp, "lib", "votes.db")
        self.client = self.start(self.db_path)

    def start(self, db_path: str) -> TestClient:
        client = TestClient(create_app(Settings(db_path=db_path)))
        client.__enter__()  # runs the lifespan
        self.addCleanup(client.__exit__, None, None, None)
        return client

    def vote(self, choice: str) -> None:
        r = self.client.post("/api/vote", json={"choice": choice})
        self.assertEqual(r.status_code, 201, r.text)
        self.assertEqual(r.json(), {"choice": choice})

    def test_votes_are_counted(self) -> None:
        r = self.client.get("/api/results")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"cats": 0, "dogs": 0, "total": 0})
        for choice in ("cats", "dogs", "cats"):
            self.vote(choice)
        self.assertEqual(self.client.get("/api/results").json(), {"cats": 2, "dogs": 1, "total": 3})

    def test_votes_are_kept_in_the_file(self) -> None:
        self.vote("dogs")
        again = self.start(self.db_path)
        self.assertEqual(again.get("/api/results").json(), {"cats": 0, "dogs": 1, "total": 1})
        self.assertTrue(os.path.isfile(self.db_path))

    def test_anything_but_cats_or_dogs_is_422_and_not_counted(self) -> None:
        for body in INVALID_JSON_BODIES:
            with self.subTest(body=body):
                r = self.client.post("/api/vote", json=body)
                self.assertEqual(r.status_code, 422, r.text)
                self.assertIn("detail", r.json())
        raw_bodies: list[tuple[bytes, str]] = [
            (b'{"choice": ', "application/json"),  # truncated JSON
            (b"", "application/json"),
            (b"cats", "text/plain"),
            (b"choice=cats", "application/x-www-form-urlencoded"),
            (b'{"choice": "cats"', "application/json"),
            (b'\xff\xfe{"choice": "cats"}', "application/json"),
        ]
        for data, ctype in raw_bodies:
            with self.subTest(data=data, ctype=ctype):
                r = self.client.post("/api/vote", content=data, headers={"content-type": ctype})
                self.assertEqual(r.status_code, 422, r.text)
        self.assertEqual(self.client.get("/api/results").json(), {"cats": 0, "dogs": 0, "total": 0})

    def test_wrong_method_and_path(self) -> None:
        self.assertEqual(self.client.get("/api/vote").status_code, 405)
        self.assertEqual(self.client.post("/api/results").status_code, 405)
        self.assertEqual(self.client.post("/health").status_code, 405)
        self.assertEqual(self.client.delete("/ready").status_code, 405)
        self.assertEqual(self.client.get("/api/votes").status_code, 404)

    def test_health_and_ready_over_get_and_head(self) -> None:
        for path, body in (("/health", {"status": "ok"}), ("/ready", {"status": "ready"})):
            with self.subTest(path=path):
                r = self.client.get(path)
                self.assertEqual(r.status_code, 200)
                self.assertEqual(r.json(), body)
                h = self.client.head(path)
                self.assertEqual(h.status_code, 200)
                self.assertEqual(h.content, b"")
                self.assertEqual(h.headers["content-type"], "application/json")

    def test_ready_creates_the_schema(self) -> None:
        self.assertFalse(os.path.exists(self.db_path))
        self.assertEqual(self.client.get("/ready").status_code, 200)
        self.assertTrue(os.path.isfile(self.db_path))

    def test_a_database_that_cannot_be_written_is_503_not_500(self) -> None:
        blocker = os.path.join(self.tmp, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("a file where the database directory should be\n")
        client = self.start(os.path.join(blocker, "votes.db"))
        with self.assertLogs("vote_api", "WARNING") as logs:
            self.assertEqual(client.get("/ready").status_code, 503)
        self.assertIn("not ready: cannot open", logs.output[0])
        self.assertEqual(client.head("/ready").status_code, 503)
        r = client.post("/api/vote", json={"choice": "cats"})
        self.assertEqual(r.status_code, 503)
        self.assertEqual(r.json(), {"detail": "database unavailable"})
        self.assertEqual(client.get("/api/results").status_code, 503)
        self.assertEqual(client.get("/health").status_code, 200)


class UnreachablePostgresTest(TempDirTest):
    """DATABASE_URL set, nothing listening: alive, not ready, 503 on the API, no secret shown."""

    def setUp(self) -> None:
        super().setUp()
        self.client = TestClient(create_app(Settings(database_url=UNREACHABLE_URL)))
        self.client.__enter__()
        self.addCleanup(self.client.__exit__, None, None, None)

    def test_alive_but_not_ready(self) -> None:
        self.assertEqual(self.client.get("/health").status_code, 200)
        self.assertEqual(self.client.head("/health").status_code, 200)
        r = self.client.get("/ready")
        self.assertEqual(r.status_code, 503)
        self.assertEqual(r.json(), {"status": "unavailable"})
        h = self.client.head("/ready")
        self.assertEqual(h.status_code, 503)
        self.assertEqual(h.content, b"")

    def test_api_answers_503(self) -> None:
        for r in (
            self.client.post("/api/vote", json={"choice": "cats"}),
            self.client.get("/api/results"),
        ):
            self.assertEqual(r.status_code, 503)
            self.assertEqual(r.json(), {"detail": "database unavailable"})
        # validation comes first: a bad vote is still 422
        self.assertEqual(self.client.post("/api/vote", json={"choice": "birds"}).status_code, 422)

    def test_logged_once_per_change_without_the_password(self) -> None:
        with self.assertLogs("vote_api", "INFO") as logs:
            for _ in range(3):
                self.assertEqual(self.client.get("/ready").status_code, 503)
            self.client.get("/api/results")
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("not ready: postgresql:", logs.output[0])
        self.assertIn("127.0.0.1", logs.output[0])
        self.assertNotIn("s3cret-pw", logs.output[0])
