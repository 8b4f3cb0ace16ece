"""The REST API of refunds by bank transfer: list what a workspace owes, record a transfer for a payment.

VA payments cannot be refunded through the gateway; the owed refund (with the client's account) is listed, and
recording the transfer settles it (ledger, status, refund receipt). Idempotency-Key, field errors (never 5xx),
the permission matrix of every role and API key, and workspace scoping."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from jasa.accounts.services import apikey_create
from jasa.core.money import Money
from jasa.notifications.models import OutboxMessage
from jasa.payments.gateways.base import Status
from jasa.payments.models import LedgerEntry, LedgerKind, Refund, RefundStatus
from jasa.payments.services import (
    payment_refund,
    payment_start,
    payment_sync,
    refund_request_manual,
    refund_set_account,
)

pytestmark = pytest.mark.django_db

OWED = "/refunds/owed"


def _paid(workspace, invoice_factory, fakegw, method="va_bca", amount=500_000):
    invoice = invoice_factory(workspace, amount)
    payment = payment_start(invoice=invoice, idempotency_key=f"{method}-{invoice.pk}", method=method)
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    return payment_sync(payment.pk)


def _owe(payment, amount=500_000, account=True):
    owed = refund_request_manual(payment=payment, amount=Money(amount), reason="booking cancelled",
                                 refund_key=f"owed:{payment.pk}")
    if account:
        refund_set_account(refund=owed, bank_name="BCA", account_number="1234567890", account_holder="Sari Dewi")
    return owed


@pytest.fixture
def owed(ws, invoice_factory, fakegw, frozen_clock):
    return _owe(_paid(ws, invoice_factory, fakegw))


@pytest.fixture
def api(ws, client, django_capture_on_commit_callbacks):
    """Call the API of ``ws`` with an API key of ``role`` (or a logged-in session when ``login`` is given)."""

    keys: dict[str, str] = {}

    def call(method, path, body=None, *, key=None, role="admin", login=None, token=None, slug=None):
        headers = {}
        if login is not None:
            client.force_login(login)
        elif role is not None:
            if role not in keys:
                keys[role] = apikey_create(workspace=ws, name=role, role=role)[1]
            headers["Authorization"] = f"Bearer {token or keys[role]}"
        if key:
            headers["Idempotency-Key"] = key
        url = f"/api/v1/workspaces/{slug or ws.slug}{path}"
        with django_capture_on_commit_callbacks(execute=True):
            if body is None:
                return getattr(client, method)(url, headers=headers)
            return getattr(client, method)(url, data=json.dumps(body), content_type="application/json",
                                           headers=headers)

    return call


def transfer(amount=500_000, **extra):
    return {"amount": {"amount": amount, "currency": "IDR"}, "reason": "booking cancelled",
            "transfer_reference": "BCA-2026-0001", **extra}


def test_owed_list_shows_the_account_then_recording_settles_it(api, owed, ws):
    [row] = api("get", OWED).json()
    assert row["id"] == str(owed.pk) and row["status"] == "pending" and row["has_account"] is True
    assert (row["bank_name"], row["account_number"], row["account_holder"]) == ("BCA", "1234567890", "Sari Dewi")
    assert row["amount"] == {"amount": 500000, "currency": "IDR"} and row["transferred_on"] is None
    assert row["invoice_number"].startswith("INV/") and row["client_name"] == owed.payment.invoice.client.name

    r = api("post", f"/payments/{owed.payment_id}/refund-transfers", transfer(transferred_on="2026-12-02"))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["id"] == str(owed.pk) and body["status"] == "succeeded"  # the owed refund itself is settled
    assert body["transfer_reference"] == "BCA-2026-0001" and body["transferred_on"] == "2026-12-02"
    owed.payment.refresh_from_db()
    assert owed.payment.status == Status.REFUNDED
    assert api("get", OWED).json() == []
    # the client gets the refund receipt
    [receipt] = OutboxMessage.objects.filter(template="payments.refund_receipt")
    assert receipt.recipient == owed.payment.invoice.client.email
    assert receipt.context["transfer_reference"] == "BCA-2026-0001"


def test_without_a_date_the_recording_day_stands_and_a_part_can_be_sent(api, ws, invoice_factory, fakegw,
                                                                          frozen_clock):
    payment = _paid(ws, invoice_factory, fakegw)
    _owe(payment, account=False)
    frozen_clock.advance(dt.timedelta(days=1, hours=16))  # Friday 02:00 WIB, still Thursday in UTC
    r = api("post", f"/payments/{payment.pk}/refund-transfers", transfer(amount=300_000))
    assert r.status_code == 201 and r.json()["transferred_on"] == "2026-12-04"
    assert r.json()["amount"] == {"amount": 300000, "currency": "IDR"}
    payment.refresh_from_db()
    assert payment.status == Status.PARTIALLY_REFUNDED


def test_idempotency_key_same_body_same_answer_other_body_422(api, owed):
    url = f"/payments/{owed.payment_id}/refund-transfers"
    a = api("post", url, transfer(), key="trf-1")
    b = api("post", url, transfer(), key="trf-1")
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert b["Idempotent-Replayed"] == "true"
    c = api("post", url, transfer(transfer_reference="BCA-OTHER"), key="trf-1")
    assert c.status_code == 422 and c.json()["code"] == "idempotency_mismatch"
    assert Refund.objects.filter(status=RefundStatus.SUCCEEDED).count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUNDED).count() == 1
    # the same refund key again (no header) is the core's idempotency: the one refund, nothing added
    again = api("post", url, transfer(refund_key=owed.refund_key))
    assert again.status_code == 201 and again.json()["id"] == str(owed.pk)
    # all of it is refunded now: a fresh transfer is refused, not recorded
    more = api("post", url, transfer())
    assert more.status_code == 409 and more.json()["detail"] == (
        "Hanya pembayaran yang berhasil yang dapat dikembalikan dananya; pembayaran ini berstatus dana dikembalikan.")
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUNDED).count() == 1


@pytest.mark.parametrize(("body", "field"), [
    (transfer(amount=1.5), "amount.amount"),
    (transfer(amount="500000"), "amount.amount"),
    ({**transfer(), "amount": {"amount": 500000, "currency": "XXX"}}, "amount.currency"),
    ({**transfer(), "amount": {"amount": 500000, "currency": "USD"}}, "amount"),
    (transfer(amount=0), "amount"),
    (transfer(amount=-5), "amount"),
    (transfer(amount=500_001), "amount"),
    (transfer(amount=10**30), "amount.amount"),  # past MAX_AMOUNT: refused by the schema
    (transfer(reason=""), "reason"),
    (transfer(reason="   "), "reason"),
    (transfer(transfer_reference=""), "transfer_reference"),
    (transfer(transfer_reference="  "), "transfer_reference"),
    (transfer(transfer_reference="x" * 101), "transfer_reference"),
    ({k: v for k, v in transfer().items() if k != "transfer_reference"}, "transfer_reference"),
    (transfer(transferred_on="2026-13-01"), "transferred_on"),
    (transfer(transferred_on="2026-12-03"), "transferred_on"),  # tomorrow in Jakarta
    (transfer(transferred_on="2026-11-30"), "transferred_on"),  # before the payment
    (transfer(bogus=1), "bogus"),
])
def test_bad_input_is_422_with_the_field(api, owed, body, field):
    r = api("post", f"/payments/{owed.payment_id}/refund-transfers", body)
    assert r.status_code == 422, r.content
    assert field in [e["field"] for e in r.json()["errors"]]
    owed.refresh_from_db()
    assert owed.is_owed


def test_not_json_unpaid_payment_and_gateway_key_are_4xx(api, ws, client, owed, invoice_factory, fakegw):
    url = f"/api/v1/workspaces/{ws.slug}/payments/{owed.payment_id}/refund-transfers"
    raw = client.post(url, data="{not json", content_type="application/json",
                      headers={"Authorization": f"Bearer {apikey_create(workspace=ws, name='t')[1]}"})
    assert 400 <= raw.status_code < 500
    invoice = invoice_factory(ws, 200_000)
    pending = payment_start(invoice=invoice, idempotency_key="pending", method="va_bca")
    r = api("post", f"/payments/{pending.pk}/refund-transfers", transfer(amount=200_000))
    assert r.status_code == 409
    card = _paid(ws, invoice_factory, fakegw, method="card")
    gateway_refund = payment_refund(payment=card, amount=Money(100_000), reason="late", refund_key="gw-1")
    r = api("post", f"/payments/{card.pk}/refund-transfers", transfer(amount=100_000, refund_key="gw-1"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "refund_key"
    gateway_refund.refresh_from_db()
    assert gateway_refund.transfer_reference == ""
    assert api("post", "/payments/not-a-uuid/refund-transfers", transfer()).status_code == 422


# --- who may --------------------------------------------------------------------------------------------------

ROLE_OUTCOME = {"owner": 200, "admin": 200, "finance": 200, "staff": 403}


@pytest.mark.parametrize("role", list(ROLE_OUTCOME))
def test_members_by_role(api, owed, ws, member_factory, role):
    user = ws.memberships.get(role="owner").user if role == "owner" else member_factory(ws, role=role).user
    listed = api("get", OWED, login=user)
    recorded = api("post", f"/payments/{owed.payment_id}/refund-transfers", transfer(), login=user)
    assert listed.status_code == ROLE_OUTCOME[role]
    assert recorded.status_code == (201 if ROLE_OUTCOME[role] == 200 else 403)
    owed.refresh_from_db()
    assert owed.is_owed is (ROLE_OUTCOME[role] != 200)


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("finance", 200), ("staff", 403)])
def test_api_keys_by_role(api, owed, role, status):
    assert api("get", OWED, role=role).status_code == status
    recorded = api("post", f"/payments/{owed.payment_id}/refund-transfers", transfer(), role=role)
    assert recorded.status_code == (201 if status == 200 else 403)


def test_anonymous_and_outsiders(api, owed, user_factory, workspace_factory):
    assert api("get", OWED, role=None).status_code == 401
    assert api("post", f"/payments/{owed.payment_id}/refund-transfers", transfer(), role=None).status_code == 401
    outsider = user_factory()
    assert api("get", OWED, login=outsider).status_code == 404
    other_owner = workspace_factory().memberships.get(role="owner").user
    assert api("post", f"/payments/{owed.payment_id}/refund-transfers", transfer(),
               login=other_owner).status_code == 404
    owed.refresh_from_db()
    assert owed.is_owed


def test_workspace_scoping(api, owed, ws, workspace_factory, invoice_factory, fakegw):
    from jasa.payments.services_config import gateway_account_save

    other = workspace_factory()
    gateway_account_save(workspace=other, gateway="testpay", credentials={"key": "k"}, is_default=True)
    foreign = _owe(_paid(other, invoice_factory, fakegw))
    # A's list holds only A's owed refunds; B's payment is not found through A
    assert [r["id"] for r in api("get", OWED).json()] == [str(owed.pk)]
    assert api("post", f"/payments/{foreign.payment_id}/refund-transfers", transfer()).status_code == 404
    # A's key cannot reach B's workspace, B's key cannot reach A's
    assert api("get", OWED, slug=other.slug).status_code == 404
    _k, b_key = apikey_create(workspace=other, name="b")
    assert api("post", f"/payments/{owed.payment_id}/refund-transfers", transfer(), token=b_key).status_code == 404
    assert [r["id"] for r in api("get", OWED, token=b_key, slug=other.slug).json()] == [str(foreign.pk)]
    foreign.refresh_from_db()
    owed.refresh_from_db()
    assert foreign.is_owed and owed.is_owed


def test_openapi_documents_both_routes(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    assert "get" in doc["paths"]["/api/v1/workspaces/{slug}/refunds/owed"]
    post = doc["paths"]["/api/v1/workspaces/{slug}/payments/{payment_id}/refund-transfers"]["post"]
    assert {"201", "403", "404", "409", "422"} <= set(post["responses"])
    schema = doc["components"]["schemas"]["RefundTransferIn"]
    assert set(schema["required"]) == {"amount", "reason", "transfer_reference"}
    assert "transferred_on" in schema["properties"]
