"""The payments REST API: invoices, payments, refunds, saved methods; Idempotency-Key; 422 field errors."""

from __future__ import annotations

import json

import pytest

from jasa.accounts.services import apikey_create
from jasa.core import clock
from jasa.payments.gateways.base import Status
from jasa.payments.models import PaymentIntent, SavedPaymentMethod

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(ws, client):
    _key, raw = apikey_create(workspace=ws, name="test", role="admin")

    def call(method, path, body=None, key=None, token=raw):
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        fn = getattr(client, method)
        url = f"/api/v1/workspaces/{ws.slug}{path}"
        if body is None:
            return fn(url, headers=headers)
        return fn(url, data=json.dumps(body), content_type="application/json", headers=headers)

    return call


@pytest.fixture
def buyer(ws, client_factory):
    return client_factory(ws)


def invoice_body(buyer, **extra):
    return {"client_id": str(buyer.pk), "issue": True,
            "lines": [{"description": "Konsultasi", "amount": {"amount": 500000, "currency": "IDR"}}], **extra}


def test_invoice_create_issue_get_list(api, buyer):
    r = api("post", "/invoices", invoice_body(buyer, issue=False))
    assert r.status_code == 201, r.content
    inv = r.json()
    assert inv["status"] == "draft" and inv["number"] is None
    assert inv["total"] == {"amount": 500000, "currency": "IDR"}
    r = api("post", f"/invoices/{inv['id']}/issue")
    assert r.status_code == 200 and r.json()["number"].startswith("INV/")
    assert api("get", f"/invoices/{inv['id']}").json()["balance"] == {"amount": 500000, "currency": "IDR"}
    assert [i["id"] for i in api("get", "/invoices?status=open").json()] == [inv["id"]]


@pytest.mark.parametrize(("body", "field"), [
    ({"lines": [{"description": "x", "amount": {"amount": 1.5, "currency": "IDR"}}]}, "lines.0.amount.amount"),
    ({"lines": [{"description": "x", "amount": {"amount": "100", "currency": "IDR"}}]}, "lines.0.amount.amount"),
    ({"lines": [{"description": "x", "amount": {"amount": 100, "currency": "XXX"}}]}, "lines.0.amount.currency"),
    ({"lines": []}, "lines"),
    ({"lines": [{"description": "", "amount": {"amount": 1, "currency": "IDR"}}]}, "lines.0.description"),
    ({"bogus": 1}, "bogus"),
])
def test_bad_input_is_422_with_field(api, buyer, body, field):
    r = api("post", "/invoices", {**invoice_body(buyer), **body})
    assert r.status_code == 422, r.content
    assert field in [e["field"] for e in r.json()["errors"]]


def test_service_validation_is_422_too(api, buyer):
    r = api("post", "/invoices", invoice_body(buyer, lines=[
        {"description": "x", "amount": {"amount": 1, "currency": "USD"}}]))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "lines.0.amount"


def test_unknown_client_is_404(api, buyer, workspace_factory, client_factory):
    other = client_factory(workspace_factory())
    r = api("post", "/invoices", invoice_body(other))
    assert r.status_code == 404


def test_payment_start_idempotency_key(api, buyer, fakegw):
    inv = api("post", "/invoices", invoice_body(buyer)).json()
    body = {"method": "card"}
    a = api("post", f"/invoices/{inv['id']}/payments", body, key="pay-1")
    assert a.status_code == 201, a.content
    b = api("post", f"/invoices/{inv['id']}/payments", body, key="pay-1")
    assert b.json() == a.json() and b["Idempotent-Replayed"] == "true"
    c = api("post", f"/invoices/{inv['id']}/payments", {"method": "qris"}, key="pay-1")
    assert c.status_code == 422
    assert PaymentIntent.objects.count() == 1
    pay = a.json()
    assert pay["status"] == "requires_action" and pay["amount"] == {"amount": 500000, "currency": "IDR"}
    assert pay["checkout_url"].startswith("https://pay.example.test/")


def test_payment_get_sync_refund(api, buyer, fakegw):
    inv = api("post", "/invoices", invoice_body(buyer)).json()
    pay = api("post", f"/invoices/{inv['id']}/payments", {"method": "card"}, key="p").json()
    fakegw.set_status(pay["id"], Status.SUCCEEDED)
    r = api("post", f"/payments/{pay['id']}/sync")
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    assert api("get", f"/payments/{pay['id']}").json()["status"] == "succeeded"
    assert api("get", f"/invoices/{inv['id']}").json()["status"] == "paid"
    r = api("post", f"/payments/{pay['id']}/refunds", {"amount": {"amount": 100000, "currency": "IDR"},
                                                        "reason": "late"}, key="rf-1")
    assert r.status_code == 201 and r.json()["status"] == "succeeded"
    again = api("post", f"/payments/{pay['id']}/refunds", {"amount": {"amount": 100000, "currency": "IDR"},
                                                            "reason": "late"}, key="rf-1")
    assert again.json() == r.json()
    assert len(api("get", "/refunds").json()) == 1
    too_much = api("post", f"/payments/{pay['id']}/refunds", {"amount": {"amount": 900000, "currency": "IDR"},
                                                              "reason": "x"})
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    assert api("get", "/payments?status=partially_refunded").json()[0]["id"] == pay["id"]


def test_refund_of_va_is_422_with_message(api, buyer, fakegw):
    inv = api("post", "/invoices", invoice_body(buyer)).json()
    pay = api("post", f"/invoices/{inv['id']}/payments", {"method": "va_bca"}, key="va").json()
    fakegw.set_status(pay["id"], Status.SUCCEEDED)
    api("post", f"/payments/{pay['id']}/sync")
    r = api("post", f"/payments/{pay['id']}/refunds", {"amount": {"amount": 1, "currency": "IDR"}, "reason": "x"})
    assert r.status_code == 422 and r.json()["detail"] == ("Pembayaran dengan Virtual account BCA tidak dapat dikembalikan "
                                                          "dananya melalui Test gateway; kembalikan dana melalui transfer bank.")


def test_saved_methods_list_and_delete(api, ws, buyer):
    saved = SavedPaymentMethod.objects.create(workspace=ws, client=buyer, gateway="testpay", token="tok",
                                              method="card", masked="4811****1114", consent_at=clock.now())
    listed = api("get", f"/saved-methods?client_id={buyer.pk}").json()
    assert [s["masked"] for s in listed] == ["4811****1114"] and "token" not in listed[0]
    assert api("delete", f"/saved-methods/{saved.pk}").status_code == 204
    assert api("get", "/saved-methods").json() == []


def test_other_workspace_cannot_read_or_pay(api, ws, workspace_factory, client_factory, client, invoice_factory):
    other = workspace_factory()
    foreign = invoice_factory(other)
    assert api("get", f"/invoices/{foreign.pk}").status_code == 404
    assert api("post", f"/invoices/{foreign.pk}/payments", {}).status_code == 404
    _k, other_key = apikey_create(workspace=other, name="o", role="admin")
    r = api("get", "/invoices", token=other_key)
    assert r.status_code == 404


def test_finance_may_refund_staff_may_not(ws, client, member_factory, buyer):
    staff = member_factory(ws, role="staff")
    client.force_login(staff.user)
    r = client.get(f"/api/v1/workspaces/{ws.slug}/invoices")
    assert r.status_code == 403


PAYMENT_ROUTES = {
    "/invoices": {"get", "post"},
    "/invoices/{invoice_id}": {"get"},
    "/invoices/{invoice_id}/issue": {"post"},
    "/invoices/{invoice_id}/void": {"post"},
    "/invoices/{invoice_id}/payments": {"post"},
    "/payments": {"get"},
    "/payments/{payment_id}": {"get"},
    "/payments/{payment_id}/sync": {"post"},
    "/payments/{payment_id}/refunds": {"post"},
    "/payments/{payment_id}/refund-transfers": {"post"},
    "/refunds": {"get"},
    "/refunds/owed": {"get"},
    "/saved-methods": {"get"},
    "/saved-methods/{saved_id}": {"delete"},
}


def test_openapi_lists_payment_routes(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    prefix = "/api/v1/workspaces/{slug}"
    listed = {path.removeprefix(prefix): set(ops) for path, ops in doc["paths"].items()
              if path.startswith(prefix) and "payments" in {t for op in ops.values() for t in op.get("tags", [])}}
    assert listed == PAYMENT_ROUTES
    # every POST of the whole API declares the Idempotency-Key header and the replay header of its answer
    posts = [(path, ops["post"]) for path, ops in doc["paths"].items() if "post" in ops]
    assert len(posts) >= 10
    for path, op in posts:
        header = [p for p in op["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert len(header) == 1 and header[0]["required"] is False, path
        assert header[0]["schema"]["maxLength"] == 200 and "same key" in header[0]["description"]
        success = [r for status, r in op["responses"].items() if status.startswith("2")]
        assert success and all("Idempotent-Replayed" in r["headers"] for r in success), path
    for path, ops in doc["paths"].items():  # and nothing else does
        for method in set(ops) - {"post"}:
            assert all(p["name"] != "Idempotency-Key" for p in ops[method].get("parameters", [])), (method, path)
    # charging a saved method is the same operation as starting a payment
    payment_in = doc["components"]["schemas"]["PaymentIn"]["properties"]
    assert payment_in["saved_method_id"]["anyOf"][0]["format"] == "uuid"
    assert "saved_method_id" in doc["components"]["schemas"]["PaymentOut"]["properties"]  # not the booking one
    assert set(doc["components"]["schemas"]["ErrorOut"]["properties"]) == {"detail", "code", "errors"}
    assert doc["components"]["schemas"]["MoneyIO"]["properties"]["amount"]["maximum"] == 10**13


def test_invoice_post_honours_idempotency_key(api, buyer):
    from jasa.payments.models import Invoice

    a = api("post", "/invoices", invoice_body(buyer), key="inv-1")
    b = api("post", "/invoices", invoice_body(buyer), key="inv-1")
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    c = api("post", "/invoices", invoice_body(buyer, memo="other"), key="inv-1")
    assert c.status_code == 422
    assert Invoice.objects.count() == 1


def test_a_retry_takes_over_a_first_request_that_died_unanswered(api, buyer, fakegw, frozen_clock, monkeypatch):
    """The process serving the first request died mid-way (here: SystemExit, which nothing in Django catches;
    tests/payments/test_races_postgres.py kills a real process): its key has no answer. Two minutes on, a
    retry with the same key and body acts in its place, once; another body is still refused."""
    import datetime as dt

    from jasa.api.models import IdempotentRequest
    from jasa.payments import services

    inv = api("post", "/invoices", invoice_body(buyer)).json()
    path, body = f"/invoices/{inv['id']}/payments", {"method": "card"}
    start = services.payment_start

    def dies(**kwargs):
        raise SystemExit(9)

    monkeypatch.setattr(services, "payment_start", dies)
    with pytest.raises(SystemExit):
        api("post", path, body, key="pay-crash")
    assert IdempotentRequest.objects.get(key="pay-crash").status_code is None
    monkeypatch.setattr(services, "payment_start", start)

    assert api("post", path, {"method": "qris"}, key="pay-crash").status_code == 422  # another body: never
    clock.advance(dt.timedelta(minutes=2, seconds=1))
    retried = api("post", path, body, key="pay-crash")
    assert retried.status_code == 201 and retried.json()["status"] == "requires_action"
    again = api("post", path, body, key="pay-crash")
    assert again["Idempotent-Replayed"] == "true" and again.json() == retried.json()
    assert PaymentIntent.objects.count() == 1 and IdempotentRequest.objects.filter(key="pay-crash").count() == 1
