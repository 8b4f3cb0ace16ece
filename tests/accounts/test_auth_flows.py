"""allauth as jasa uses it: sign-up with verification, login by password or emailed code,
password reset, MFA, rate limits, admin login, Google only when configured. Mail goes over real SMTP."""

from __future__ import annotations

import re

import pytest

from jasa.accounts.services import apikey_create

PASSWORD = "kuat-sekali-2026!"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_cache_namespace):
    return fresh_cache_namespace


def _link(inbox, msg, pattern: str) -> str:
    match = re.search(r"https?://[^\s]+" + pattern + r"[^\s]*", inbox.text(msg))
    assert match, inbox.text(msg)
    return match.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _signup(client, email: str):
    return client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "word"), [("id", "Konfirmasi"), ("en", "Confirm")])
def test_signup_sends_verification_mail_in_the_visitors_language(client, smtp_server, lang, word):
    client.cookies["django_language"] = lang
    response = _signup(client, f"new-{lang}@example.test")
    assert response.status_code == 302
    [msg] = smtp_server.wait_for(f"new-{lang}@example.test")
    assert word.lower() in (msg["Subject"] + smtp_server.text(msg)).lower()
    assert msg["Subject"].startswith("[jasa] ")
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.get(email=f"new-{lang}@example.test").language == lang


@pytest.mark.django_db
def test_login_is_refused_until_the_email_is_verified_then_works(client, smtp_server):
    from django.contrib.auth import get_user_model

    _signup(client, "ani@example.test")
    client.logout()
    response = client.post("/accounts/login/", {"login": "ani@example.test", "password": PASSWORD})
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    assert "_auth_user_id" not in client.session

    msg = smtp_server.wait_for("ani@example.test")[-1]
    confirm = _link(smtp_server, msg, "/accounts/confirm-email/")
    assert client.get(confirm).status_code == 200
    client.post(confirm)
    client.logout()
    response = client.post("/accounts/login/", {"login": "ani@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(get_user_model().objects.get(email="ani@example.test").pk)


@pytest.mark.django_db
def test_login_by_emailed_code(client, smtp_server, user_factory):
    user = user_factory(email="kode@example.test")
    response = client.post("/accounts/login/code/", {"email": user.email})
    assert response.status_code == 302
    msg = smtp_server.wait_for(user.email)[-1]
    # The code stands alone on its line (letters/digits, maybe grouped with a dash).
    code = re.search(r"^\s*([A-Z0-9][A-Z0-9-]{3,14}[A-Z0-9])\s*$", smtp_server.text(msg), re.M).group(1)
    response = client.post(response["Location"], {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_password_reset_by_mail(client, smtp_server, user_factory):
    user = user_factory(email="lupa@example.test")
    assert client.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
    msg = smtp_server.wait_for(user.email)[-1]
    link = _link(smtp_server, msg, "/accounts/password/reset/key/")
    response = client.get(link)  # allauth moves the key into the session and redirects
    form_url = response["Location"] if response.status_code == 302 else link
    new = "baru-lagi-2026!"
    response = client.post(form_url, {"password1": new, "password2": new})
    assert response.status_code == 302
    client.logout()
    client.post("/accounts/login/", {"login": user.email, "password": new})
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_failed_logins_are_rate_limited_through_the_shared_cache(client, user_factory, fresh_cache_namespace):
    user = user_factory(email="target@example.test")
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-password"})
    client.post("/accounts/login/", {"login": user.email, "password": "pw-secret-123"})
    # The right password no longer works: this email is locked for a while ...
    assert "_auth_user_id" not in client.session
    # ... and the lock lives in the shared cache: in a fresh cache namespace the same login works.
    fresh_cache_namespace()
    client.post("/accounts/login/", {"login": user.email, "password": "pw-secret-123"})
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_admin_login_goes_through_allauth(client, user_factory):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    staff = user_factory(email="boss@example.test")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_google_login_shows_only_when_configured(client, settings):
    assert "/accounts/google/login/" not in client.get("/accounts/login/").content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "id.apps.googleusercontent.com", "secret": "s", "key": ""}],
                   "SCOPE": ["profile", "email"]}
    }
    assert "/accounts/google/login/" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_totp_mfa_is_reachable_and_then_required_at_login(client, user_factory):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
    from allauth.mfa.totp.internal.auth import yield_hotp_counters_from_time as counters

    user = user_factory(email="mfa@example.test")
    client.post("/accounts/login/", {"login": user.email, "password": "pw-secret-123"})
    account_page = client.get("/accounts/email/").content.decode()
    assert "/accounts/2fa/" in account_page  # reachable from the account pages
    assert client.get("/accounts/2fa/").status_code == 200
    response = client.get("/accounts/2fa/totp/activate/")
    if response.status_code == 302:  # sensitive: allauth asks for the password again first
        assert response["Location"].startswith("/accounts/reauthenticate/")
        client.post(response["Location"], {"password": "pw-secret-123"})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    now = list(counters())
    code = format_hotp_value(hotp_value(secret, now[len(now) // 2]))
    response = client.post("/accounts/2fa/totp/activate/", {"code": code})
    assert response.status_code == 302
    assert user.authenticator_set.filter(type="totp").exists()
    assert client.get("/accounts/2fa/recovery-codes/").status_code == 200

    client.logout()
    response = client.post("/accounts/login/", {"login": user.email, "password": "pw-secret-123"})
    assert response.status_code == 302 and "/2fa/authenticate/" in response["Location"]
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/accounts/user/", "/admin/accounts/workspace/", "/admin/accounts/apikey/",
                                 "/admin/accounts/invitation/"])
def test_admin_pages_for_operators(client, workspace, user_factory, url):
    boss = user_factory(email="op@example.test")
    boss.is_staff = boss.is_superuser = True
    boss.save()
    apikey_create(workspace=workspace, name="k")
    client.force_login(boss)
    response = client.get(url)
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
