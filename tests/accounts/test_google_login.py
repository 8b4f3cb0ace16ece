"""Google login end to end against a local fake of Google's token endpoint (the OAuth documented payload)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import pytest

CLIENT_ID = "jasa-test.apps.googleusercontent.com"


class _FakeGoogle(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        _FakeGoogle.requests.append(form)
        now = int(time.time())
        id_token = jwt.encode({
            "iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": "1098765432101234567890",
            "email": "rani@gmail.example", "email_verified": True, "name": "Rani Wijaya",
            "given_name": "Rani", "family_name": "Wijaya", "iat": now, "exp": now + 3600,
        }, "signature-not-checked-when-fetched-over-tls", algorithm="HS256")
        payload = {"access_token": "ya29.fake", "expires_in": 3599, "token_type": "Bearer",
                   "scope": "openid email profile", "id_token": id_token}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_google(settings, monkeypatch):
    from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter

    server = HTTPServer(("127.0.0.1", 0), _FakeGoogle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(GoogleOAuth2Adapter, "access_token_url", f"http://127.0.0.1:{server.server_port}/token")
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": CLIENT_ID, "secret": "fake-secret", "key": ""}],
                   "SCOPE": ["profile", "email"], "AUTH_PARAMS": {"access_type": "online"}}
    }
    _FakeGoogle.requests = []
    yield _FakeGoogle
    server.shutdown()


@pytest.mark.django_db
def test_google_login_creates_a_verified_account_and_logs_in(client, fake_google):
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    response = client.post("/accounts/google/login/")
    assert response.status_code == 302
    authorize = urlparse(response["Location"])
    assert authorize.netloc == "accounts.google.com"
    state = parse_qs(authorize.query)["state"][0]

    response = client.get("/accounts/google/login/callback/", {"code": "4/fake-code", "state": state})
    assert response.status_code == 302, response.content[:500]
    assert fake_google.requests and fake_google.requests[0]["code"] == "4/fake-code"
    user = get_user_model().objects.get(email="rani@gmail.example")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(user=user, email=user.email).verified
