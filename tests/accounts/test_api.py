"""The workspace API beyond permissions: input validation, answers, OpenAPI."""

from __future__ import annotations

import json

import pytest

from jasa.accounts.services import apikey_create


@pytest.fixture
def owner_client(client, workspace):
    client.force_login(workspace.memberships.get(role="owner").user)
    return client


def _patch(c, slug, body, **headers):
    return c.patch(f"/api/v1/workspaces/{slug}", data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.django_db
def test_patch_changes_fields_and_records_audit(owner_client, workspace):
    response = _patch(owner_client, workspace.slug, {"legal_name": "PT Acme", "languages": ["en"],
                                                     "brand_colour": "#123456"})
    assert response.status_code == 200
    body = response.json()
    assert body["legal_name"] == "PT Acme" and body["languages"] == ["en"] and body["brand_colour"] == "#123456"
    from jasa.core import audit

    entry = audit.for_object(workspace).filter(action="workspace.updated").get()
    assert entry.actor_label == workspace.memberships.get(role="owner").user.email


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"currency": "XYZ"}, "currency"),
    ({"brand_colour": "red"}, "brand_colour"),
    ({"languages": []}, "languages"),
    ({"slug": "other"}, "slug"),
    ({"email": "not-an-email"}, "email"),
    ({"refund_transfer_days": 0}, "refund_transfer_days"),
    ({"refund_transfer_days": 61}, "refund_transfer_days"),
])
def test_patch_refuses_bad_input_with_422_naming_the_field(owner_client, workspace, body, field):
    response = _patch(owner_client, workspace.slug, body)
    assert response.status_code == 422, response.content
    errors = response.json().get("errors") or []
    assert any(field in e["field"] for e in errors), response.json()


@pytest.mark.django_db
def test_refund_transfer_days_are_set_and_cleared_with_null(owner_client, workspace):
    assert _patch(owner_client, workspace.slug, {"refund_transfer_days": 5}).json()["refund_transfer_days"] == 5
    kept = _patch(owner_client, workspace.slug, {"legal_name": "PT Acme"})
    assert kept.json()["refund_transfer_days"] == 5  # not sent: unchanged
    cleared = _patch(owner_client, workspace.slug, {"refund_transfer_days": None})
    assert cleared.status_code == 200 and cleared.json()["refund_transfer_days"] is None


@pytest.mark.django_db
def test_api_key_changes_are_attributed_to_the_key(client, workspace):
    key, raw = apikey_create(workspace=workspace, name="crm", role="admin")
    response = _patch(client, workspace.slug, {"legal_name": "PT Kunci"}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    from jasa.core import audit

    entry = audit.for_object(workspace).filter(action="workspace.updated").get()
    assert entry.actor_label == f"api-key:{key.prefix}"


@pytest.mark.django_db
def test_invitation_post_returns_201_and_duplicate_member_is_409(owner_client, workspace):
    url = f"/api/v1/workspaces/{workspace.slug}/invitations"
    response = owner_client.post(url, data=json.dumps({"email": "a@example.test", "role": "finance"}),
                                 content_type="application/json")
    assert response.status_code == 201 and response.json()["role"] == "finance"
    assert "token" not in response.json()
    owner_email = workspace.memberships.get(role="owner").user.email
    response = owner_client.post(url, data=json.dumps({"email": owner_email}), content_type="application/json")
    assert response.status_code == 409
    response = owner_client.post(url, data=json.dumps({"email": "b@example.test", "role": "boss"}),
                                 content_type="application/json")
    assert response.status_code == 422


@pytest.mark.django_db
def test_bad_or_revoked_bearer_key_is_401(client, workspace):
    from jasa.accounts.services import apikey_revoke

    key, raw = apikey_create(workspace=workspace, name="old", role="admin")
    apikey_revoke(key=key)
    for token in (raw, "jasa_x_y", "garbage"):
        response = client.get(f"/api/v1/workspaces/{workspace.slug}", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401


@pytest.mark.django_db
def test_openapi_documents_session_and_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert any(s.get("in") == "cookie" for s in schemes.values())
    assert "/api/v1/workspaces/{slug}/members" in spec["paths"]
