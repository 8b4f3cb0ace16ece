"""Security headers, CSRF on forms, frame denial, and `jasa manage check --deploy` clean in production."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JASA_", "PYTEST"))}
    env.update(JASA_ENV="production", SECRET_KEY=secrets.token_urlsafe(50)[:50], ALLOWED_HOSTS="x.test",
               JASA_DATA_DIR=str(tmp_path), DEBUG="0")
    code = "from jasa.cli import main; raise SystemExit(main(['manage', 'check', '--deploy', '--fail-level', 'WARNING']))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output and "?: (security" not in output


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JASA_", "PYTEST", "SECRET_KEY"))}
    env.update(JASA_ENV="production", JASA_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="jasa.settings")
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/signup/"])
def test_pages_send_csp_frame_denial_and_nosniff(client, url):
    response = client.get(url)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_have_no_inline_scripts(client, workspace):
    client.force_login(workspace.memberships.get(role="owner").user)
    for url in ["/", f"/dashboard/{workspace.slug}/", f"/dashboard/{workspace.slug}/settings/",
                f"/dashboard/{workspace.slug}/team/", f"/{workspace.slug}/", "/accounts/email/", "/accounts/2fa/"]:
        html = client.get(url).content.decode()
        for chunk in html.split("<script")[1:]:
            head = chunk.split(">", 1)[0]
            assert "src=" in head or "application/json" in head, (url, head)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["settings/", "team/invite/"])
def test_forms_without_csrf_token_are_refused(workspace, path):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(workspace.memberships.get(role="owner").user)
    response = c.post(f"/dashboard/{workspace.slug}/{path}", {"email": "x@example.test", "role": "staff"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_every_form_on_my_pages_carries_a_csrf_token(client, workspace):
    client.force_login(workspace.memberships.get(role="owner").user)
    for url in [f"/dashboard/{workspace.slug}/settings/", f"/dashboard/{workspace.slug}/team/",
                f"/dashboard/{workspace.slug}/profile/", "/dashboard/new/", "/"]:
        html = client.get(url).content.decode()
        for form in html.split("<form")[1:]:
            body = form.split("</form>", 1)[0]
            if 'method="post"' in body.split(">", 1)[0]:
                assert "csrfmiddlewaretoken" in body, (url, body[:200])
