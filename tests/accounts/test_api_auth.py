"""API keys: shown once, stored hashed, scoped to their workspace, revocable."""

import pytest

from jasa.accounts.models import ApiKey
from jasa.accounts.services import apikey_authenticate, apikey_create, apikey_revoke


@pytest.mark.django_db
def test_key_is_stored_hashed_and_authenticates(workspace):
    key, raw = apikey_create(workspace=workspace, name="CRM sync", role="finance")
    assert raw.startswith(f"jasa_{key.prefix}_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in (stored.hashed_key, stored.prefix)
    assert apikey_authenticate(raw) == key
    assert apikey_authenticate(raw + "x") is None
    assert apikey_authenticate("jasa_nope_nope") is None
    assert "payments.refund" in key.capabilities and "workspace.manage" not in key.capabilities


@pytest.mark.django_db
def test_revoked_key_no_longer_works(workspace):
    key, raw = apikey_create(workspace=workspace, name="old", role="admin")
    apikey_revoke(key=key)
    assert apikey_authenticate(raw) is None
