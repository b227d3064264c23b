"""Shared by the tests: temp databases, a real uvicorn server in a child process, raw HTTP."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from collections.abc import Mapping
from dataclasses import dataclass

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# nothing listens there: connections are refused at once
UNREACHABLE_URL = "postgresql://vote:s3cret-pw@127.0.0.1:1/votes"


def python_command() -> list[str]:
    raw = os.environ.get("VOTE_TEST_PYTHON")
    if not raw:
        return [sys.executable]
    argv = json.loads(raw)
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv) or not argv:
        raise ValueError("VOTE_TEST_PYTHON must be a JSON list of strings")
    return argv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def parse_response(data: bytes) -> RawResponse:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError(f"no complete response head in {data!r}")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(status, headers, body)


def raw_request(port: int, method: str, path: str, body: bytes = b"", timeout: float = 10.0) -> RawResponse:
    """One request on its own connection (Connection: close); everything the server sent."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if body or method == "POST":
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        return parse_response(read_all(s))


def read_all(s: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class Server:
    """`python3 -m app` on 127.0.0.1 and a free port, in the app's directory."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        full = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), **env}
        self.proc = subprocess.Popen(
            [*python_command(), "-m", "app"],
            cwd=APP_DIR,
            env=full,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if raw_request(self.port, "GET", "/health", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"no 200 on /health within {timeout} s:\n{self.output()}")

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the server did not stop within {timeout} s after SIGTERM") from None

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class TempDirTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="vote-api-test-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
