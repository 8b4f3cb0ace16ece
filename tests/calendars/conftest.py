"""Fixtures for calendar tests: a real Radicale server, and local HTTP fakes of outside services."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """Service messages are asserted in English; the pages' Indonesian catalog is checked separately."""
    with translation.override("en"):
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"{}")


@dataclass
class FakeServer:
    """A local HTTP server; ``route(method, path_prefix)`` handlers return (status, headers, body)."""

    url: str = ""
    routes: dict = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def route(self, method: str, prefix: str):
        def register(fn):
            self.routes[(method, prefix)] = fn
            return fn

        return register

    def handle(self, req: Recorded):
        self.requests.append(req)
        matches = [(m, p) for (m, p) in self.routes if m == req.method and req.path.startswith(p)]
        if not matches:
            return 404, {"Content-Type": "application/json"}, b'{"error": {"code": 404, "message": "Not Found"}}'
        key = max(matches, key=lambda mp: len(mp[1]))
        return self.routes[key](req)


@pytest.fixture
def fake_http():
    fake = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = fake.handle(Recorded(self.command, self.path, dict(self.headers), body))
            if isinstance(payload, dict | list):
                payload = json.dumps(payload).encode()
                headers = {"Content-Type": "application/json; charset=UTF-8", **headers}
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@dataclass
class Radicale:
    url: str
    username: str
    password: str


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory):
    """A real Radicale CalDAV server on a free 127.0.0.1 port, htpasswd auth, temporary storage."""
    root = tmp_path_factory.mktemp("radicale")
    (root / "users").write_text("staff:secret-pw\n")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(root / "collections"),
         "--auth-type", "htpasswd", "--auth-htpasswd-filename", str(root / "users"),
         "--auth-htpasswd-encryption", "plain", "--rights-type", "owner_only", "--logging-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"radicale did not start: {proc.stderr.read().decode()[:2000]}")
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("radicale did not start in 20 s")
    yield Radicale(url=f"http://127.0.0.1:{port}/", username="staff", password="secret-pw")
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
