"""The real server: `python3 -m app` (uvicorn) on 127.0.0.1, spoken to over raw sockets."""

import json
import os
import signal
import socket
import sqlite3
import time

from .helpers import UNREACHABLE_URL, Server, TempDirTest, parse_response, raw_request, read_all


class ServerTest(TempDirTest):
    def serve(self, **env: str) -> Server:
        server = Server(env)
        self.addCleanup(server.close)
        server.wait_healthy()
        return server

    def test_api_head_bodies_and_a_quiet_access_log(self) -> None:
        db = os.path.join(self.tmp, "votes.db")
        server = self.serve(VOTE_DB_PATH=db)
        r = raw_request(server.port, "POST", "/api/vote", b'{"choice": "dogs"}')
        self.assertEqual(r.status, 201)
        self.assertEqual(json.loads(r.body), {"choice": "dogs"})
        self.assertEqual(raw_request(server.port, "POST", "/api/vote", b'{"choice": "cows"}').status, 422)
        r = raw_request(server.port, "GET", "/api/results")
        self.assertEqual(json.loads(r.body), {"cats": 0, "dogs": 1, "total": 1})
        self.assertNotIn("server", r.headers)  # no server banner
        for path in ("/health", "/ready"):
            with self.subTest(path=path):
                get = raw_request(server.port, "GET", path)
                head = raw_request(server.port, "HEAD", path)
                self.assertEqual((get.status, head.status), (200, 200))
                self.assertEqual(head.body, b"", "HEAD sends no body")
                self.assertEqual(head.headers.get("content-length"), str(len(get.body)))
        self.assertEqual(server.stop(), 0)
        out = server.output()
        self.assertIn('"POST /api/vote HTTP/1.1" 201', out)
        self.assertIn('"POST /api/vote HTTP/1.1" 422', out)
        self.assertIn('"GET /api/results HTTP/1.1" 200', out)
        self.assertNotIn("/health", out, "successful probes stay out of the access log")
        self.assertNotIn("GET /ready", out)
        self.assertRegex(out, r"storing votes in sqlite 3\.[0-9.]+ at " + db)
        self.assertIn("Finished server process", out)

    def test_unreachable_database_503_over_get_and_head_and_logged(self) -> None:
        server = self.serve(DATABASE_URL=UNREACHABLE_URL)
        get = raw_request(server.port, "GET", "/ready")
        head = raw_request(server.port, "HEAD", "/ready")
        self.assertEqual((get.status, head.status), (503, 503))
        self.assertEqual(json.loads(get.body), {"status": "unavailable"})
        self.assertEqual(head.body, b"")
        self.assertEqual(raw_request(server.port, "GET", "/health").status, 200)
        self.assertEqual(raw_request(server.port, "POST", "/api/vote", b'{"choice": "cats"}').status, 503)
        self.assertEqual(server.stop(), 0)
        out = server.output()
        self.assertIn('"GET /ready HTTP/1.1" 503', out, "failed probes are logged")
        self.assertEqual(out.count("not ready: postgresql:"), 1, out)
        self.assertRegex(out, r"storing votes in postgresql via psycopg 3\.[0-9.]+ \((c|binary|python), libpq \d+\)")
        self.assertNotIn("s3cret-pw", out)

    def test_sigterm_finishes_the_request_in_flight_and_exits_0(self) -> None:
        db = os.path.join(self.tmp, "votes.db")
        server = self.serve(VOTE_DB_PATH=db, SHUTDOWN_TIMEOUT="20")
        body = b'{"choice": "cats"}'
        head = (
            "POST /api/vote HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
            # the request has started (headers and part of the body are in) when SIGTERM comes
            s.sendall(head + body[:5])
            time.sleep(0.5)
            server.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while "Waiting for connections to close" not in server.output():
                self.assertLess(time.monotonic(), deadline, server.output())
                time.sleep(0.05)
            self.assertIsNone(server.proc.poll(), "still running while a request is in flight")
            # no new connections once shutting down
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
            s.sendall(body[5:])
            # read_all returns at EOF: the server answered, then closed the connection
            r = parse_response(read_all(s))
        self.assertEqual(r.status, 201)
        self.assertEqual(json.loads(r.body), {"choice": "cats"})
        self.assertEqual(server.proc.wait(20), 0)
        with sqlite3.connect(db) as conn:
            self.assertEqual(conn.execute("SELECT choice FROM votes").fetchall(), [("cats",)])

    def test_psycopg_that_cannot_load_is_one_line_and_exit_1(self) -> None:
        # psycopg's own ImportError (as when libpq is missing), through an implementation it has not
        server = Server({"DATABASE_URL": UNREACHABLE_URL, "PSYCOPG_IMPL": "no-such-impl"})
        self.addCleanup(server.close)
        self.assertEqual(server.proc.wait(60), 1)
        out = server.output()
        self.assertTrue(out.startswith("vote-api: cannot use PostgreSQL: "), out)
        self.assertEqual(out.count("\n"), 1, out)
        self.assertNotIn("s3cret-pw", out)

    def test_bad_configuration_is_one_line_and_exit_1(self) -> None:
        server = Server({"PORT": "eighty"})
        self.addCleanup(server.close)
        self.assertEqual(server.proc.wait(60), 1)
        self.assertEqual(server.output(), "vote-api: PORT must be an integer from 1 to 65535, got 'eighty'\n")
