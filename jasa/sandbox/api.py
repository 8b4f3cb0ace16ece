"""The sandbox gateway's "HTTP API", called in-process: JSON-like dicts in, JSON-like dicts out.

The adapter (jasa.payments.gateways.sandbox) talks only to this module, as the Midtrans adapter
talks only to Midtrans' API. Every call authenticates the merchant and passes through the
switchable API faults (5xx before the work, timeout after it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse

from jasa.sandbox import methods, services
from jasa.sandbox.faults import ApiError, api_call
from jasa.sandbox.models import SandboxMerchant, SandboxPayment, SandboxRefund

Json = dict[str, Any]


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _card_json(payment: SandboxPayment) -> Json | None:
    if not payment.card_last4:
        return None
    return {"brand": payment.card_brand, "last4": payment.card_last4,
            "exp_month": payment.card_exp_month, "exp_year": payment.card_exp_year}


def _token_json(payment: SandboxPayment) -> Json | None:
    """The saved card's token, once the card was paid with (or verified, for a setup) and asked to be kept."""
    t = payment.token if payment.save_method else None
    if t is None or payment.status not in (SandboxPayment.PAID, SandboxPayment.PARTIALLY_REFUNDED,
                                           SandboxPayment.REFUNDED):
        return None
    return {"token": t.token, "brand": t.brand, "masked": t.masked, "exp_month": t.exp_month, "exp_year": t.exp_year}


def payment_json(payment: SandboxPayment) -> Json:
    ref = payment.gateway_reference
    card = _card_json(payment)
    token = _token_json(payment)
    return {
        "id": ref,
        "reference": payment.reference,
        "kind": payment.kind,
        "status": payment.status,
        "gross_amount": payment.gross_amount,
        "refunded_amount": payment.refunded_amount,
        "currency": payment.currency,
        "method": payment.method,
        "checkout_url": absolute(reverse("sandbox:checkout", args=[ref])),
        "va_number": payment.va_number,
        "bank": payment.bank,
        "biller_code": methods.MANDIRI_BILLER_CODE if payment.bank == "mandiri" else "",
        "qr_string": payment.qr_string,
        "qr_url": absolute(reverse("sandbox:qr", args=[ref])) if payment.qr_string else "",
        "deeplink_url": absolute(reverse("sandbox:checkout", args=[ref])) if payment.family == "ewallet" else "",
        "store_code": payment.store_code,
        "expires_at": payment.expires_at.isoformat() if payment.expires_at else "",
        "paid_at": payment.paid_at.isoformat() if payment.paid_at else "",
        "threeds": payment.threeds_state,
        "card": card,
        "token": token,
        "failure_code": payment.failure_code,
        "failure_message": payment.failure_message,
    }


def setup_json(setup: SandboxPayment) -> Json:
    """A setup (saving a card without a payment): pending on the hosted card form, then succeeded with its
    token, failed (declined, 3-D Secure failed), expired or canceled."""
    return {
        "id": setup.gateway_reference,
        "reference": setup.reference,
        "status": setup.api_status,
        "currency": setup.currency,
        "checkout_url": absolute(reverse("sandbox:checkout", args=[setup.gateway_reference])),
        "expires_at": setup.expires_at.isoformat() if setup.expires_at else "",
        "threeds": setup.threeds_state,
        "card": _card_json(setup),
        "token": _token_json(setup),
        "failure_code": setup.failure_code,
        "failure_message": setup.failure_message,
    }


def refund_json(refund: SandboxRefund) -> Json:
    return {"id": refund.gateway_reference, "refund_key": refund.refund_key, "amount": refund.amount,
            "currency": refund.payment.currency, "status": refund.status,
            "failure_message": refund.failure_message}


def _payment(merchant: SandboxMerchant, reference: str, *, setup: bool = False) -> SandboxPayment:
    """A payment (or, with ``setup``, a setup) by jasa's reference: the payment calls never see setups."""
    found = SandboxPayment.objects.filter(merchant=merchant, reference=reference)
    payment = (found.filter(kind=SandboxPayment.SETUP) if setup else found.exclude(kind=SandboxPayment.SETUP)).first()
    if payment is None:
        raise ApiError(404, "not_found", f"no {'setup' if setup else 'payment'} with reference {reference!r}")
    return payment


def _merchant(credentials: Mapping[str, str]) -> SandboxMerchant:
    return services.merchant_for_credentials(credentials)


def create_checkout(credentials: Mapping[str, str], data: Mapping[str, Any]) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        payment = services.payment_create(merchant, data, kind="checkout")
    return payment_json(payment)


def create_direct(credentials: Mapping[str, str], data: Mapping[str, Any]) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        payment = services.payment_create(merchant, data, kind="direct")
    return payment_json(payment)


def charge_token(credentials: Mapping[str, str], data: Mapping[str, Any], token: str) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        payment = services.token_charge(merchant, data, token)
    return payment_json(payment)


def revoke_token(credentials: Mapping[str, str], token: str) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        saved = services.token_revoke(merchant, token)
    return {"token": saved.token, "revoked": saved.revoked}


def get_payment(credentials: Mapping[str, str], reference: str) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        payment = _payment(merchant, reference)
        # expiry is applied when anyone asks, not only when the sweep comes round
        payment = services.payment_expire_if_due(payment.pk) or payment
    return payment_json(payment)


def cancel(credentials: Mapping[str, str], reference: str) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        payment = services.payment_cancel(_payment(merchant, reference).pk)
    return payment_json(payment)


def create_setup(credentials: Mapping[str, str], data: Mapping[str, Any]) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        setup = services.setup_create(merchant, data)
    return setup_json(setup)


def get_setup(credentials: Mapping[str, str], reference: str) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        setup = _payment(merchant, reference, setup=True)
        setup = services.payment_expire_if_due(setup.pk) or setup
    return setup_json(setup)


def cancel_setup(credentials: Mapping[str, str], reference: str) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        setup = services.payment_cancel(_payment(merchant, reference, setup=True).pk)
    return setup_json(setup)


def refund(credentials: Mapping[str, str], reference: str, *, amount: int, refund_key: str, reason: str) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        result = services.refund_create(_payment(merchant, reference).pk, amount=amount, refund_key=refund_key,
                                        reason=reason)
    return refund_json(result)


def ping(credentials: Mapping[str, str]) -> Json:
    merchant = _merchant(credentials)
    with api_call(merchant):
        count = SandboxPayment.objects.filter(merchant=merchant).count()
    return {"merchant_id": merchant.merchant_id, "payments": count}
