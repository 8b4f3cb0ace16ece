"""Fixtures of the sandbox gateway's tests: a merchant, its adapter, and a local webhook receiver."""

from __future__ import annotations

import http.server
import threading

import pytest

from jasa.core.money import Money
from jasa.payments.gateways.base import Method, PaymentRequest


@pytest.fixture
def merchant(db, workspace):
    from jasa.sandbox.services import merchant_for_workspace

    return merchant_for_workspace(workspace)


@pytest.fixture
def gateway(merchant):
    from jasa.payments.gateways.sandbox import SandboxGateway

    return SandboxGateway(merchant.credentials, sandbox=True)


@pytest.fixture
def make_request():
    counter = {"n": 0}

    def make(amount: int = 150_000, method: Method | None = None, **fields) -> PaymentRequest:
        counter["n"] += 1
        fields.setdefault("reference", f"pay-{counter['n']}")
        return PaymentRequest(amount=Money(amount), method=method, description="Konsultasi 60 menit",
                              customer_name="Budi", customer_email="budi@example.test", **fields)

    return make


class _Receiver(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answer = 200
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((dict(self.headers.items()), body))
        self.send_response(self.server.answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    """A local HTTP server standing in for jasa's webhook endpoint; SITE_URL points at it."""
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SITE_URL = server.url
    yield server
    server.shutdown()
    server.server_close()
