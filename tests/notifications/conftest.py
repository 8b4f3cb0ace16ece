"""A local stand-in for Meta's WhatsApp Cloud API: checks the token, answers with Meta's payloads."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

TOKEN = "test-wa-token"
PHONE_ID = "109876543210"


class FakeWhatsApp:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_with: tuple[int, dict] | None = None
        self.url = ""


def _handler(state: FakeWhatsApp):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            state.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "json": body})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, {"error": {
                    "message": "Invalid OAuth access token - Cannot parse access token",
                    "type": "OAuthException", "code": 190, "fbtrace_id": "AbCdEf123"}})
            if self.path != f"/v21.0/{PHONE_ID}/messages":
                return self._answer(400, {"error": {
                    "message": "Unsupported post request.", "type": "GraphMethodException", "code": 100,
                    "fbtrace_id": "AbCdEf124"}})
            if state.fail_with:
                return self._answer(*state.fail_with)
            n = len(state.requests)
            return self._answer(200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": f"wamid.HBgLNjI4MTIzNDU2Nzg5FQIAERgS{n:04d}", "message_status": "accepted"}],
            })

    return Handler


@pytest.fixture
def whatsapp_api(settings):
    state = FakeWhatsApp()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/v21.0"
    settings.WHATSAPP_API_URL = state.url
    settings.WHATSAPP_TOKEN = TOKEN
    settings.WHATSAPP_PHONE_NUMBER_ID = PHONE_ID
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
