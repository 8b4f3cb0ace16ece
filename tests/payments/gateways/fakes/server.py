"""A tiny programmable HTTP gateway fake: routes, recorded requests and switchable faults.

Each gateway fake (midtrans.py, xendit.py, stripe.py) subclasses ``FakeGateway`` and answers
with the payloads from that gateway's documentation. Tests flip faults (``fail_next``, ``hold_next``,
``delay_next``) and read ``requests`` to prove what the adapter sent (ids, idempotency keys).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclasses.dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(self.body.decode(), keep_blank_values=True)


@dataclasses.dataclass
class Reply:
    status: int
    body: Any  # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


Handler = Callable[..., Reply]


@dataclasses.dataclass
class Hold:
    """A held answer (``FakeGateway.hold_next``): the fake has acted on ``request`` (``acted`` is set) and
    keeps its answer until ``release`` is set. A crash test kills the caller in between."""

    acted: threading.Event = dataclasses.field(default_factory=threading.Event)
    release: threading.Event = dataclasses.field(default_factory=threading.Event)
    request: Recorded | None = None


class FakeGateway:
    """Subclasses register routes with ``self.route(method, pattern, handler)``; ``pattern`` is a regex
    over the path whose named groups become handler keyword arguments."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[Reply | float | Hold] = []
        self._replays: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- setup ---------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(pattern + r"\Z"), handler))

    def idempotent(self, handler: Handler) -> Handler:
        """Wrap a create route: a repeated ``Idempotency-Key`` gets the first (successful) answer replayed
        instead of acting twice, as Stripe and Xendit document."""

        def wrapped(req: Recorded, **kw: Any) -> Reply:
            key = req.headers.get("idempotency-key")
            if key and key in self._replays:
                return self._replays[key]
            reply = handler(req, **kw)
            if key and reply.status < 400:
                self._replays[key] = reply
            return reply

        return wrapped

    def fail_next(self, status: int = 500, body: Any = None) -> None:
        """The next request gets this answer instead of the real one (5xx, 4xx, HTML ...)."""
        self._faults.append(Reply(status, body if body is not None else "<html>Internal Server Error</html>"))

    def delay_next(self, seconds: float) -> None:
        """The next request sleeps this long before answering (a gateway timeout)."""
        self._faults.append(seconds)

    def hold_next(self) -> Hold:
        """The next request is acted on (the gateway creates, charges ...), then its answer waits for
        ``release`` (at most a minute): the window between a gateway's answer and the caller's commit."""
        hold = Hold()
        self._faults.append(hold)
        return hold

    # --- lifecycle -----------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGateway:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- helpers for tests -----------------------------------------------------------
    def last(self, method: str | None = None, path_contains: str = "") -> Recorded:
        for req in reversed(self.requests):
            if (method is None or req.method == method.upper()) and path_contains in req.path:
                return req
        raise AssertionError(f"no {method or ''} request to *{path_contains}* among {[r.path for r in self.requests]}")

    def calls(self, method: str, path_contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and path_contains in r.path]

    # --- internals -------------------------------------------------------------------
    def _dispatch(self, http: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        req = Recorded(
            method=http.command,
            path=parsed.path,
            query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(req)
            fault = self._faults.pop(0) if self._faults else None
        if isinstance(fault, float | int):
            time.sleep(float(fault))
            fault = None
        reply = fault if isinstance(fault, Reply) else self._answer(req)
        if isinstance(fault, Hold):
            fault.request = req
            fault.acted.set()
            fault.release.wait(60)
        self._write(http, reply)

    def _answer(self, req: Recorded) -> Reply:
        for method, pattern, handler in self._routes:
            match = pattern.match(req.path)
            if method == req.method and match:
                return handler(req, **match.groupdict())
        return Reply(404, {"error": f"fake has no route for {req.method} {req.path}"})

    @staticmethod
    def _write(http: BaseHTTPRequestHandler, reply: Reply) -> None:
        if isinstance(reply.body, dict | list):
            data = json.dumps(reply.body).encode()
            ctype = "application/json"
        else:
            data = reply.body.encode() if isinstance(reply.body, str) else reply.body
            ctype = "text/html"
        try:
            http.send_response(reply.status)
            http.send_header("Content-Type", reply.headers.get("Content-Type", ctype))
            http.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                if name != "Content-Type":
                    http.send_header(name, value)
            http.end_headers()
            http.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test): nothing to deliver
