"""POST /webhooks/<gateway> for every built-in gateway: a body that is not provably the gateway's, or
that is signed but not shaped as the gateway sends it, is a 400 — never a 500 — and changes nothing:
no WebhookEvent row, the payment keeps its status, no ledger entry. Each gateway's well-formed
notification is accepted (200, stored once) so that every refusal below is about what was changed.
Run on PostgreSQL too: a NUL character in a signed body would otherwise fail its insert there."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from jasa.core import clock
from jasa.payments.gateways.base import Status
from jasa.payments.gateways.stripe import sign as stripe_sign
from jasa.payments.models import LedgerEntry, PaymentIntent, WebhookEvent
from jasa.payments.services_config import gateway_account_save
from jasa.sandbox.services import default_secret
from jasa.sandbox.webhooks import sign as sandbox_sign

pytestmark = pytest.mark.django_db

WHSEC = "whsec_jasa_endpoint"
CALLBACK_TOKEN = "cb-token-endpoint"
SERVER_KEY = "SB-Mid-server-endpoint"
GATEWAYS = ("sandbox", "stripe", "xendit", "midtrans")


@pytest.fixture
def payment(workspace, invoice_factory, frozen_clock):
    """One pending payment per gateway (the accounts hold the secrets the endpoint verifies with)."""
    gateway_account_save(workspace=workspace, gateway="stripe", credentials={"secret_key": "sk_test_x",
                                                                             "webhook_secret": WHSEC})
    gateway_account_save(workspace=workspace, gateway="xendit", credentials={"secret_key": "xnd_development_x",
                                                                             "callback_token": CALLBACK_TOKEN})
    gateway_account_save(workspace=workspace, gateway="midtrans", credentials={"server_key": SERVER_KEY})
    invoice = invoice_factory(workspace, 500_000)

    def make(gateway: str) -> PaymentIntent:
        return PaymentIntent.objects.create(
            workspace=workspace, invoice=invoice, idempotency_key=f"wh-{gateway}", gateway=gateway, method="",
            status=Status.REQUIRES_ACTION, currency="IDR", applied_amount=500_000, gross_amount=500_000,
            submitted_at=clock.now(),
        )

    return make


def now_ts() -> int:
    return int(clock.now().timestamp())


# --- what each gateway sends, signed as it signs it ------------------------------------------------


def sandbox_body(ref: str) -> dict[str, Any]:
    return {"event_id": "evt_sbx_1", "type": "payment.succeeded", "merchant_id": "default", "sent_at": now_ts(),
            "data": {"reference": ref, "status": "succeeded"}}


def sandbox_signed(payload: Any, *, raw: bytes | None = None, secret: str = "") -> tuple[dict[str, str], bytes]:
    body = raw if raw is not None else json.dumps(payload).encode()
    fields = payload if isinstance(payload, dict) else {}
    return {"X-Sandbox-Signature": sandbox_sign(secret or default_secret("default"), body),
            "X-Sandbox-Event-Id": str(fields.get("event_id", "")),
            "X-Sandbox-Timestamp": str(fields.get("sent_at", ""))}, body


def stripe_body(ref: str) -> dict[str, Any]:
    return {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "object": "payment_intent", "status": "succeeded",
                                "metadata": {"jasa_reference": ref}}}}


def stripe_signed(payload: Any, *, raw: bytes | None = None, secret: str = WHSEC,
                  age: int = 0) -> tuple[dict[str, str], bytes]:
    body = raw if raw is not None else json.dumps(payload).encode()
    return {"Stripe-Signature": stripe_sign(body, secret, now_ts() - age)}, body


def xendit_body(ref: str) -> dict[str, Any]:
    return {"event": "payment.succeeded", "business_id": "5f27a14a9bf05c73dd040bc8",
            "data": {"id": "py-1", "reference_id": ref, "status": "SUCCEEDED", "metadata": {"jasa_reference": ref}}}


def xendit_signed(payload: Any, *, raw: bytes | None = None,
                  token: str = CALLBACK_TOKEN) -> tuple[dict[str, str], bytes]:
    body = raw if raw is not None else json.dumps(payload).encode()
    return {"X-Callback-Token": token}, body


def midtrans_body(ref: str, server_key: str = SERVER_KEY) -> dict[str, Any]:
    body: dict[str, Any] = {"order_id": ref, "status_code": "200", "gross_amount": "500000.00",
                            "transaction_status": "settlement", "transaction_id": "tx-1"}
    return midtrans_resign(body, server_key)


def midtrans_resign(body: dict[str, Any], server_key: str = SERVER_KEY) -> dict[str, Any]:
    """Sign the body's fields as they read (the text of whatever type they hold), as Midtrans signs."""
    raw = f"{body.get('order_id')}{body.get('status_code')}{body.get('gross_amount')}{server_key}"
    return {**body, "signature_key": hashlib.sha512(raw.encode()).hexdigest()}


def midtrans_signed(payload: Any, *, raw: bytes | None = None) -> tuple[dict[str, str], bytes]:
    return {}, raw if raw is not None else json.dumps(payload).encode()


def with_(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` ("data.object.metadata") set to ``value``."""
    out = json.loads(json.dumps(base))
    node = out
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return out


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


Delivery = Callable[[str], tuple[dict[str, str], bytes]]

VALID: dict[str, Delivery] = {
    "sandbox": lambda ref: sandbox_signed(sandbox_body(ref)),
    "stripe": lambda ref: stripe_signed(stripe_body(ref)),
    "xendit": lambda ref: xendit_signed(xendit_body(ref)),
    "midtrans": lambda ref: midtrans_signed(midtrans_body(ref)),
}

REFUSED: dict[str, dict[str, Delivery]] = {
    "sandbox": {
        "forged signature": lambda ref: sandbox_signed(sandbox_body(ref), secret="sbx_sk_someone_else"),
        "missing signature header": lambda ref: (without(sandbox_signed(sandbox_body(ref))[0], "X-Sandbox-Signature"),
                                                 sandbox_signed(sandbox_body(ref))[1]),
        "stale timestamp": lambda ref: sandbox_signed({**sandbox_body(ref), "sent_at": now_ts() - 301}),
        "future timestamp": lambda ref: sandbox_signed({**sandbox_body(ref), "sent_at": now_ts() + 301}),
        "malformed JSON": lambda ref: sandbox_signed({}, raw=b'{"event_id": "evt_sbx_1",'),
        "body is a list": lambda ref: sandbox_signed([sandbox_body(ref)]),
        "data is a list": lambda ref: sandbox_signed(with_(sandbox_body(ref), "data", [ref])),
        "data is a string": lambda ref: sandbox_signed(with_(sandbox_body(ref), "data", ref)),
        "event_id is a number": lambda ref: sandbox_signed(with_(sandbox_body(ref), "event_id", 7)),
        "sent_at is a string": lambda ref: sandbox_signed(with_(sandbox_body(ref), "sent_at", str(now_ts()))),
        "another merchant": lambda ref: sandbox_signed(with_(sandbox_body(ref), "merchant_id", "someone")),
        "NUL in a string": lambda ref: sandbox_signed(with_(sandbox_body(ref), "data.status", "succ\x00eeded")),
    },
    "stripe": {
        "forged signature": lambda ref: stripe_signed(stripe_body(ref), secret="whsec_someone_else"),
        "missing signature header": lambda ref: ({}, stripe_signed(stripe_body(ref))[1]),
        "stale timestamp": lambda ref: stripe_signed(stripe_body(ref), age=301),
        "malformed JSON": lambda ref: stripe_signed({}, raw=b'{"id": "evt_1", "data": {'),
        "body is a list": lambda ref: stripe_signed([stripe_body(ref)]),
        "data is a string": lambda ref: stripe_signed(with_(stripe_body(ref), "data", "object")),
        "data.object is a list": lambda ref: stripe_signed(with_(stripe_body(ref), "data.object", [ref])),
        "data.object is a string": lambda ref: stripe_signed(with_(stripe_body(ref), "data.object", ref)),
        "data.object is a number": lambda ref: stripe_signed(with_(stripe_body(ref), "data.object", 42)),
        "metadata is a list": lambda ref: stripe_signed(with_(stripe_body(ref), "data.object.metadata", [ref])),
        "metadata is a string": lambda ref: stripe_signed(with_(stripe_body(ref), "data.object.metadata", ref)),
        "NUL in a string": lambda ref: stripe_signed(with_(stripe_body(ref), "data.object.status", "succ\x00eeded")),
    },
    "xendit": {
        "forged callback token": lambda ref: xendit_signed(xendit_body(ref), token="cb-token-guessed"),
        "missing callback token": lambda ref: ({}, xendit_signed(xendit_body(ref))[1]),
        "malformed JSON": lambda ref: xendit_signed({}, raw=b'{"event": "payment.succeeded", '),
        "body is a list": lambda ref: xendit_signed([xendit_body(ref)]),
        "data is a list": lambda ref: xendit_signed(with_(xendit_body(ref), "data", [ref])),
        "data is a string": lambda ref: xendit_signed(with_(xendit_body(ref), "data", ref)),
        "metadata is a list": lambda ref: xendit_signed(with_(xendit_body(ref), "data.metadata", [ref])),
        "metadata is a string": lambda ref: xendit_signed(with_(xendit_body(ref), "data.metadata", ref)),
        "invoice without external_id": lambda ref: xendit_signed({"id": "inv-1", "status": "PAID"}),
        "NUL in a string": lambda ref: xendit_signed(with_(xendit_body(ref), "data.status", "SUCC\x00EEDED")),
    },
    "midtrans": {
        "forged signature": lambda ref: midtrans_signed(midtrans_body(ref, server_key="SB-Mid-server-guessed")),
        "missing signature_key": lambda ref: midtrans_signed({k: v for k, v in midtrans_body(ref).items()
                                                              if k != "signature_key"}),
        "malformed JSON": lambda ref: midtrans_signed({}, raw=b'{"order_id": "'),
        "body is a list": lambda ref: midtrans_signed([midtrans_body(ref)]),
        "order_id is a number": lambda ref: midtrans_signed(midtrans_resign({**midtrans_body(ref), "order_id": 7})),
        "order_id is an object": lambda ref: midtrans_signed(midtrans_resign({**midtrans_body(ref),
                                                                              "order_id": {"id": ref}})),
        "gross_amount is a number": lambda ref: midtrans_signed(midtrans_resign({**midtrans_body(ref),
                                                                                 "gross_amount": 500000})),
        "signature_key is a number": lambda ref: midtrans_signed({**midtrans_body(ref), "signature_key": 12345}),
        "NUL in a string": lambda ref: midtrans_signed({**midtrans_body(ref), "transaction_status": "settle\x00ment"}),
    },
}


def deliver(client, gateway: str, headers: dict[str, str], body: bytes):
    return client.post(f"/webhooks/{gateway}", data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_gateways_own_notification_is_accepted(client, payment, gateway):
    pending = payment(gateway)
    headers, body = VALID[gateway](pending.reference)
    response = deliver(client, gateway, headers, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "duplicate": False}
    assert WebhookEvent.objects.get().reference == pending.reference


@pytest.mark.parametrize(("gateway", "case"), [(g, c) for g in GATEWAYS for c in REFUSED[g]])
def test_a_body_not_provably_the_gateways_is_400_and_changes_nothing(client, payment, gateway, case):
    pending = payment(gateway)
    headers, body = REFUSED[gateway][case](pending.reference)
    response = deliver(client, gateway, headers, body)
    assert response.status_code == 400, response.content
    assert response.json()["detail"] in ("rejected", "malformed")
    assert not WebhookEvent.objects.exists()
    pending.refresh_from_db()
    assert pending.status == Status.REQUIRES_ACTION
    assert not LedgerEntry.objects.exists()


def test_every_gateway_is_covered():
    from jasa.payments.gateways.base import gateway_names

    assert set(gateway_names()) == set(GATEWAYS)


def test_a_backslash_before_u0000_is_text_not_a_nul(client, payment):
    """Only a real NUL character is refused (PostgreSQL cannot store one): the six characters \\u0000 can."""
    pending = payment("stripe")
    body = with_(stripe_body(pending.reference), "data.object.description", "C:\\u0000 folder")
    assert b"\\u0000" in json.dumps(body).encode()
    assert deliver(client, "stripe", *stripe_signed(body)).status_code == 200
    assert WebhookEvent.objects.get().payload["data"]["object"]["description"] == "C:\\u0000 folder"

