"""DELETE /api/v1/workspaces/{slug}/saved-methods/{id} removes a method the same way the client's portal
does: jasa stops charging it (audited) and the gateway is told to delete its token. Owner, admin and finance
may; staff and a client may not; another business's method does not exist."""

# ruff: noqa: F811 - pytest fixtures imported from tests.payments.test_api and tests.sandbox.fixtures
from __future__ import annotations

import pytest

from jasa.accounts.services import apikey_create
from jasa.core import clock
from jasa.core.models import AuditEntry
from jasa.payments.models import SavedPaymentMethod
from tests.payments.test_api import api, buyer  # noqa: F401 - fixtures
from tests.sandbox.fixtures import merchant  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _saved(ws, client, gateway="testpay", token="tok-1") -> SavedPaymentMethod:
    return SavedPaymentMethod.objects.create(workspace=ws, client=client, gateway=gateway, token=token, method="card",
                                             masked="481111******1114", expiry_month=12, expiry_year=2030,
                                             consent_at=clock.now())


def test_delete_revokes_the_token_at_the_sandbox(api, workspace, merchant, buyer):
    from jasa.payments.gateways.base import GatewayDeclined
    from jasa.payments.gateways.sandbox import SandboxGateway
    from jasa.payments.services_config import gateway_account_save
    from jasa.sandbox.models import SandboxToken

    gateway_account_save(workspace=workspace, gateway="sandbox", credentials=merchant.credentials, is_default=True)
    token = SandboxToken.objects.create(merchant=merchant, token="tok_api_0001", last4="1114", exp_month=12,
                                        exp_year=2030)
    saved = _saved(workspace, buyer, gateway="sandbox", token=token.token)
    assert api("delete", f"/saved-methods/{saved.pk}").status_code == 204
    saved.refresh_from_db()
    token.refresh_from_db()
    assert not saved.is_active and saved.removed_at is not None and token.revoked
    assert AuditEntry.objects.filter(action="saved_method.remove", object_id=str(saved.pk)).exists()
    with pytest.raises(GatewayDeclined):  # nobody can charge it with the business's keys any more
        SandboxGateway(merchant.credentials).charge_saved(_request(), token.token)
    assert api("delete", f"/saved-methods/{saved.pk}").status_code == 204  # again: nothing more happens


def _request():
    from jasa.core.money import Money
    from jasa.payments.gateways.base import Method, PaymentRequest

    return PaymentRequest(reference="after-removal", amount=Money(100_000), method=Method.CARD, description="x",
                          customer_name="Budi", customer_email="budi@example.test")


def test_delete_tells_the_gateway_through_the_adapter(api, ws, buyer, monkeypatch):
    from tests.payments.fakegw import FakeGateway

    forgotten: list[str] = []
    monkeypatch.setattr(FakeGateway, "forget_saved_method", lambda self, token: forgotten.append(token), raising=False)
    saved = _saved(ws, buyer)
    assert api("delete", f"/saved-methods/{saved.pk}").status_code == 204
    assert forgotten == ["tok-1"]


def test_delete_works_when_the_gateway_cannot_delete_tokens(api, ws, buyer):
    saved = _saved(ws, buyer)  # the in-test gateway has no forget_saved_method
    assert api("delete", f"/saved-methods/{saved.pk}").status_code == 204
    saved.refresh_from_db()
    assert not saved.is_active


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("finance", True),
                                               ("staff", False)])
def test_who_may_delete(ws, client, buyer, member_factory, role, allowed):
    saved = _saved(ws, buyer)
    client.force_login(member_factory(ws, role=role).user)
    response = client.delete(f"/api/v1/workspaces/{ws.slug}/saved-methods/{saved.pk}")
    assert response.status_code == (204 if allowed else 403)
    saved.refresh_from_db()
    assert saved.is_active is not allowed


def test_a_client_or_anonymous_may_not_delete(ws, client, buyer, user_factory):
    saved = _saved(ws, buyer)
    url = f"/api/v1/workspaces/{ws.slug}/saved-methods/{saved.pk}"
    assert client.delete(url).status_code == 401
    buyer.user = user_factory(email="buyer@example.test")
    buyer.save(update_fields=["user"])
    client.force_login(buyer.user)
    assert client.delete(url).status_code == 404  # not a member: the workspace does not exist for them
    saved.refresh_from_db()
    assert saved.is_active


def test_another_workspaces_method_does_not_exist(api, ws, workspace_factory, client_factory):
    other = workspace_factory()
    saved = _saved(other, client_factory(other))
    assert api("delete", f"/saved-methods/{saved.pk}").status_code == 404
    _k, other_key = apikey_create(workspace=other, name="o", role="admin")
    assert api("delete", f"/saved-methods/{saved.pk}", token=other_key).status_code == 404  # acme's URL
    saved.refresh_from_db()
    assert saved.is_active
