"""Every write of the sandbox gateway "server": payments, card attempts, 3-D Secure, refunds, tokens.

Raises :class:`ApiError` where a real gateway would answer 4xx; the adapter turns that into
GatewayDeclined. Every transition locks the payment row and only moves out of ``pending``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from jasa.core import audit, clock, jobs
from jasa.sandbox import methods, webhooks
from jasa.sandbox.faults import ApiError, faults_for
from jasa.sandbox.models import SandboxMerchant, SandboxPayment, SandboxRefund, SandboxToken

# --- merchants --------------------------------------------------------------------------------


def default_secret(merchant_id: str) -> str:
    """The secret of a merchant registered without one (derived, so every process agrees)."""
    return "sbx_sk_" + hmac.new(settings.SECRET_KEY.encode(), f"sandbox:{merchant_id}".encode(),
                                hashlib.sha256).hexdigest()[:32]


def merchant_for_credentials(credentials: Mapping[str, str]) -> SandboxMerchant:
    """Authenticate a caller. An unknown merchant id signs itself up (it is a sandbox); a known one
    with another secret is refused, as a real gateway answers 401."""
    merchant_id = (credentials.get("merchant_id") or "default").strip()
    secret = credentials.get("secret_key") or default_secret(merchant_id)
    merchant = SandboxMerchant.objects.filter(merchant_id=merchant_id).first()
    if merchant is None:
        try:
            with transaction.atomic():
                merchant = SandboxMerchant.objects.create(merchant_id=merchant_id, secret_key=secret)
        except IntegrityError:  # signed up concurrently
            merchant = SandboxMerchant.objects.get(merchant_id=merchant_id)
    if not hmac.compare_digest(merchant.secret_key, secret):
        raise ApiError(401, "unauthorized", "the sandbox merchant id and secret key do not match")
    return merchant


@transaction.atomic
def merchant_for_workspace(workspace) -> SandboxMerchant:
    """The workspace's sandbox account (created on first use); its ``credentials`` go in jasa's settings."""
    merchant, _ = SandboxMerchant.objects.get_or_create(
        merchant_id=f"ws_{workspace.pk.hex}", defaults={"workspace": workspace, "name": workspace.name}
    )
    return merchant


# --- built-in test tokens ---------------------------------------------------------------------

BUILTIN_TOKENS = {
    "tok_sandbox_success": ("1114", 12, 2030, SandboxToken.SUCCESS),
    "tok_sandbox_expired": ("1117", 1, 2024, SandboxToken.SUCCESS),
    "tok_sandbox_needs_auth": ("3220", 12, 2030, SandboxToken.NEEDS_AUTH),
    "tok_sandbox_declined": ("1113", 12, 2030, SandboxToken.DECLINE),
    "tok_sandbox_insufficient": ("1118", 12, 2030, SandboxToken.INSUFFICIENT),
}


def token_lookup(merchant: SandboxMerchant, token: str) -> SandboxToken:
    if token in BUILTIN_TOKENS:
        last4, month, year, behaviour = BUILTIN_TOKENS[token]
        builtin, _ = SandboxToken.objects.get_or_create(
            token=token, defaults={"last4": last4, "exp_month": month, "exp_year": year, "behaviour": behaviour}
        )
        return builtin
    row = SandboxToken.objects.filter(token=token, merchant=merchant, revoked=False).first()
    if row is None:
        raise ApiError(404, "token_not_found", "this saved card is unknown or was removed")
    return row


@transaction.atomic
def token_revoke(merchant: SandboxMerchant, token: str) -> SandboxToken:
    """The merchant deletes a saved card: no charge with it succeeds again. Revoking twice is one revoke.

    The built-in test tokens are shared by every merchant, so nobody may revoke them (409)."""
    if token in BUILTIN_TOKENS:
        raise ApiError(409, "token_builtin", "a built-in test token cannot be removed")
    row = SandboxToken.objects.select_for_update().filter(token=token, merchant=merchant).first()
    if row is None:
        raise ApiError(404, "token_not_found", "this saved card is unknown")
    if not row.revoked:
        row.revoked = True
        row.save(update_fields=["revoked", "updated_at"])
    return row


# --- payments ---------------------------------------------------------------------------------


def _locked(payment_id) -> SandboxPayment:
    payment = SandboxPayment.objects.select_for_update().select_related("merchant").filter(pk=payment_id).first()
    if payment is None:
        raise ApiError(404, "not_found", "no such sandbox payment")
    return payment


def _expiry_for(payment: SandboxPayment) -> dt.datetime:
    if payment.expires_in_seconds:
        return payment.created_at + dt.timedelta(seconds=payment.expires_in_seconds)
    if not payment.method:
        return clock.now() + methods.CHECKOUT_EXPIRY
    return clock.now() + methods.EXPIRY[payment.family]


def _schedule_expiry(payment: SandboxPayment) -> None:
    if payment.expires_at:
        jobs.schedule("sandbox.expire", key=f"sandbox:expire:{payment.pk}", due_at=payment.expires_at,
                      payload={"payment": str(payment.pk)}, reschedule=True)


def _record(payment: SandboxPayment, action: str, before: str) -> None:
    audit.record(payment, f"sandbox_payment.{action}", before={"status": before},
                 after={"status": payment.status, "method": payment.method},
                 workspace=payment.merchant.workspace, actor=audit.Actor(label="gateway:sandbox"))


def _reference(data: Mapping[str, Any]) -> str:
    reference = str(data.get("reference") or "").strip()
    if not reference or len(reference) > 100:
        raise ApiError(400, "invalid_reference", "reference is required (at most 100 characters)")
    return reference


@transaction.atomic
def payment_create(merchant: SandboxMerchant, data: Mapping[str, Any], *, kind: str) -> SandboxPayment:
    """Create (or, for a known reference, return) a payment. ``kind``: checkout | direct."""
    reference = _reference(data)
    amount = data.get("gross_amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ApiError(400, "invalid_amount", "gross_amount must be a positive integer of minor units")
    method = data.get("method") or ""
    if method and method not in methods.ALL_METHODS:
        raise ApiError(400, "invalid_method", f"unknown method {method!r}")
    if kind == "direct" and not method:
        raise ApiError(400, "method_required", "a direct payment needs a method")
    existing = SandboxPayment.objects.filter(merchant=merchant, reference=reference).first()
    if existing is not None:
        # the reference is the idempotency key: a retry returns the same payment, never a second one
        if existing.gross_amount != amount or existing.currency != data.get("currency", "IDR"):
            raise ApiError(409, "reference_reused", "this reference was already used for another amount")
        return existing
    payment = SandboxPayment(
        merchant=merchant, reference=reference, gateway_reference="sbx_" + secrets.token_hex(10),
        gross_amount=amount, currency=data.get("currency", "IDR"), kind=kind,
        allowed_methods=[m for m in data.get("allowed_methods") or [] if m in methods.ALL_METHODS],
        livemode=bool(data.get("livemode")), description=str(data.get("description", ""))[:300],
        customer_name=str(data.get("customer_name", ""))[:200],
        customer_email=str(data.get("customer_email", ""))[:200],
        return_url=str(data.get("return_url", ""))[:500], notification_url=str(data.get("notification_url", ""))[:500],
        metadata=dict(data.get("metadata") or {}), save_method=bool(data.get("save_method")),
        expires_in_seconds=data.get("expires_in_seconds") or None,
    )
    payment.save()
    if method:
        _issue(payment, method)
    else:
        payment.expires_at = _expiry_for(payment)
        payment.save(update_fields=["expires_at"])
        _schedule_expiry(payment)
    return payment


@transaction.atomic
def setup_create(merchant: SandboxMerchant, data: Mapping[str, Any]) -> SandboxPayment:
    """Saving a card without a payment (or, for a known reference, the same setup): the hosted card form
    verifies the card for nothing (test cards and 3-D Secure as for a payment) and, once it passes, keeps it
    as a token, as a paid card payment with ``save_method`` does. A decline ends the setup (``failed``)."""
    reference = _reference(data)
    existing = SandboxPayment.objects.filter(merchant=merchant, reference=reference).first()
    if existing is not None:
        if existing.kind != SandboxPayment.SETUP:
            raise ApiError(409, "reference_reused", "this reference was already used for a payment")
        return existing
    payment = SandboxPayment.objects.create(
        merchant=merchant, reference=reference, gateway_reference="sbx_" + secrets.token_hex(10), gross_amount=0,
        currency=data.get("currency", "IDR"), kind=SandboxPayment.SETUP, method="card", save_method=True,
        livemode=bool(data.get("livemode")), description=str(data.get("description", ""))[:300],
        customer_name=str(data.get("customer_name", ""))[:200],
        customer_email=str(data.get("customer_email", ""))[:200],
        return_url=str(data.get("return_url", ""))[:500], notification_url=str(data.get("notification_url", ""))[:500],
        metadata=dict(data.get("metadata") or {}), expires_in_seconds=data.get("expires_in_seconds") or None,
    )
    payment.expires_at = _expiry_for(payment)
    payment.save(update_fields=["expires_at"])
    _schedule_expiry(payment)
    return payment


def _issue(payment: SandboxPayment, method: str) -> None:
    """Choose the method and issue its instrument: VA number, QR payload, deeplink or store code."""
    payment.method = method
    payment.va_number = payment.bank = payment.qr_string = payment.store_code = ""
    family = payment.family
    if family == "va":
        payment.bank = methods.bank_of(method)
        payment.va_number = methods.va_number(payment.bank)
    elif family == "qris":
        payment.qr_string = methods.qris_payload(
            merchant_name=payment.merchant.name or payment.merchant.merchant_id,
            reference=payment.gateway_reference, amount=payment.gross_amount)
    elif family == "store":
        payment.store_code = methods.store_code(method)
    payment.expires_at = _expiry_for(payment)
    payment.save()
    _schedule_expiry(payment)
    if family != "card":
        webhooks.emit(payment, "payment.pending")


@transaction.atomic
def payment_choose_method(payment_id, method: str) -> SandboxPayment:
    payment = _locked(payment_id)
    _require_open(payment)
    if payment.kind == SandboxPayment.SETUP:
        raise ApiError(400, "method_not_allowed", "only a card can be saved here")
    if method not in methods.ALL_METHODS or (payment.allowed_methods and method not in payment.allowed_methods):
        raise ApiError(400, "method_not_allowed", "this method is not offered for this payment")
    if payment.method != method or (payment.family != "card" and not _has_instrument(payment)):
        _issue(payment, method)
    return payment


def _has_instrument(payment: SandboxPayment) -> bool:
    return bool(payment.va_number or payment.qr_string or payment.store_code or payment.family == "ewallet")


def _require_open(payment: SandboxPayment) -> None:
    if payment.status == SandboxPayment.PENDING and payment.is_past_expiry:
        _set_final(payment, SandboxPayment.EXPIRED, "payment.expired")
    if payment.status != SandboxPayment.PENDING:
        raise ApiError(409, "not_pending", f"this payment is {payment.status}")


# A setup's notifications say what happened to the card, not to a payment.
SETUP_EVENTS = {"payment.paid": "setup.succeeded", "payment.failed": "setup.failed",
                "payment.expired": "setup.expired", "payment.canceled": "setup.canceled"}


def _set_final(payment: SandboxPayment, status: str, event: str, code: str = "", message: str = "") -> None:
    before = payment.status
    payment.status = status
    payment.failure_code, payment.failure_message = code, str(message)[:300]
    if status == SandboxPayment.PAID:
        payment.paid_at = clock.now()
    payment.save()
    _record(payment, status, before)
    webhooks.emit(payment, SETUP_EVENTS.get(event, event) if payment.kind == SandboxPayment.SETUP else event)
    jobs.cancel(f"sandbox:expire:{payment.pk}")


def _paid(payment: SandboxPayment) -> None:
    if payment.save_method and payment.family == "card" and payment.token is None and payment.card_last4:
        payment.token = SandboxToken.objects.create(
            merchant=payment.merchant, token="tok_" + secrets.token_hex(12), brand=payment.card_brand,
            last4=payment.card_last4, exp_month=payment.card_exp_month or 12, exp_year=payment.card_exp_year or 2030,
        )
    _set_final(payment, SandboxPayment.PAID, "payment.paid")


def _failed(payment: SandboxPayment, outcome: str) -> None:
    code, message = methods.CARD_FAILURES[outcome]
    _set_final(payment, SandboxPayment.FAILED, "payment.failed", code, message)


@transaction.atomic
def payment_pay_card(payment_id, *, number: str, exp_month: int, exp_year: int, cvc: str) -> SandboxPayment:
    """A card typed on the sandbox page. Only brand, last 4 and expiry are kept."""
    payment = _locked(payment_id)
    _require_open(payment)
    if payment.allowed_methods and "card" not in payment.allowed_methods:
        raise ApiError(400, "method_not_allowed", "cards are not offered for this payment")
    if payment.threeds_state == SandboxPayment.THREEDS_CHALLENGE:
        raise ApiError(409, "authentication_pending", "finish the 3-D Secure step first")
    number = "".join(ch for ch in number if ch.isdigit())
    if not 13 <= len(number) <= 19 or not methods.luhn_ok(number):
        raise ApiError(422, "invalid_number", "check the card number")
    if not (1 <= exp_month <= 12) or not (2000 <= exp_year <= 2100):
        raise ApiError(422, "invalid_expiry", "check the expiry date (MM/YY)")
    if not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        raise ApiError(422, "invalid_cvc", "check the security code (CVC)")
    test = methods.TEST_CARDS.get(number)
    payment.method = "card"
    payment.card_brand = test.brand if test else methods.card_brand(number)
    payment.card_last4, payment.card_exp_month, payment.card_exp_year = number[-4:], exp_month, exp_year
    today = clock.now().date()
    outcome = test.outcome if test else "success"
    if (exp_year, exp_month) < (today.year, today.month):
        outcome = "expired"
    if outcome == "3ds":
        payment.threeds_state = SandboxPayment.THREEDS_CHALLENGE
        payment.otp_attempts = 0
        payment.save()
    elif outcome == "success":
        _paid(payment)
    else:
        _failed(payment, outcome)
    return payment


@transaction.atomic
def payment_submit_otp(payment_id, otp: str) -> tuple[SandboxPayment, bool]:
    """Check the one-time password. Returns the payment and whether the OTP was right; after
    MAX_OTP_ATTEMPTS wrong ones the payment fails."""
    payment = _locked(payment_id)
    _require_open(payment)
    if payment.threeds_state != SandboxPayment.THREEDS_CHALLENGE:
        raise ApiError(409, "no_challenge", "this payment is not waiting for 3-D Secure")
    if otp.strip() == methods.OTP:
        payment.threeds_state = SandboxPayment.THREEDS_PASSED
        _paid(payment)
        return payment, True
    payment.otp_attempts += 1
    if payment.otp_attempts >= methods.MAX_OTP_ATTEMPTS:
        payment.threeds_state = SandboxPayment.THREEDS_FAILED
        _failed(payment, "3ds_failed")
    else:
        payment.save(update_fields=["otp_attempts", "updated_at"])
    return payment, False


@transaction.atomic
def payment_ewallet_decide(payment_id, *, approve: bool) -> SandboxPayment:
    payment = _locked(payment_id)
    _require_open(payment)
    if payment.family != "ewallet":
        raise ApiError(409, "not_ewallet", "this payment is not an e-wallet payment")
    if approve:
        _paid(payment)
    else:
        _failed(payment, "ewallet_declined")
    return payment


@transaction.atomic
def payment_simulate(payment_id) -> SandboxPayment:
    """The sandbox's "pay now" for a VA transfer, a QRIS scan or a store payment."""
    payment = _locked(payment_id)
    if payment.livemode:
        raise ApiError(403, "livemode", "payments cannot be simulated in live mode")
    _require_open(payment)
    if payment.family not in ("va", "qris", "store") or not _has_instrument(payment):
        raise ApiError(409, "not_simulatable", "only a VA, QRIS or store payment can be simulated")
    _paid(payment)
    return payment


@transaction.atomic
def payment_expire_if_due(payment_id) -> SandboxPayment | None:
    payment = SandboxPayment.objects.select_for_update().select_related("merchant").filter(pk=payment_id).first()
    if payment is not None and payment.status == SandboxPayment.PENDING and payment.is_past_expiry:
        _set_final(payment, SandboxPayment.EXPIRED, "payment.expired")
    return payment


def payments_expire_due() -> int:
    """The sweep: expire every pending payment past its time (jobs do it too; this catches stragglers)."""
    ids = list(SandboxPayment.objects.filter(status=SandboxPayment.PENDING, expires_at__lte=clock.now())
               .values_list("pk", flat=True)[:500])
    for payment_id in ids:
        payment_expire_if_due(payment_id)
    return len(ids)


@transaction.atomic
def payment_cancel(payment_id) -> SandboxPayment:
    payment = _locked(payment_id)
    if payment.status == SandboxPayment.PENDING and payment.is_past_expiry:
        _set_final(payment, SandboxPayment.EXPIRED, "payment.expired")
    if payment.status == SandboxPayment.PENDING:
        _set_final(payment, SandboxPayment.CANCELED, "payment.canceled")
    elif payment.status not in SandboxPayment.FINAL_UNPAID:
        raise ApiError(409, "not_cancelable", "a paid payment is refunded, not canceled")
    return payment


@transaction.atomic
def token_charge(merchant: SandboxMerchant, data: Mapping[str, Any], token: str) -> SandboxPayment:
    """An off-session charge of a saved card (renewals). Idempotent by reference."""
    saved = token_lookup(merchant, token)
    existing = SandboxPayment.objects.filter(merchant=merchant, reference=data.get("reference")).first()
    if existing is not None:
        return payment_create(merchant, data, kind="saved")  # same checks, same answer
    payment = payment_create(merchant, {**data, "method": ""}, kind="saved")
    payment.method = "card"
    payment.token = saved
    payment.card_brand, payment.card_last4 = saved.brand, saved.last4
    payment.card_exp_month, payment.card_exp_year = saved.exp_month, saved.exp_year
    payment.expires_at = clock.now() + methods.EXPIRY["card"]
    if saved.is_expired():
        _failed(payment, "expired")
    elif saved.behaviour == SandboxToken.NEEDS_AUTH:
        # the bank wants the client present: they finish 3-D Secure on the checkout page
        payment.threeds_state = SandboxPayment.THREEDS_CHALLENGE
        payment.failure_code = "authentication_required"
        payment.save()
        _schedule_expiry(payment)
    elif saved.behaviour in (SandboxToken.DECLINE, SandboxToken.INSUFFICIENT):
        _failed(payment, "decline" if saved.behaviour == SandboxToken.DECLINE else "insufficient")
    else:
        _paid(payment)
    return payment


# --- refunds ----------------------------------------------------------------------------------


@transaction.atomic
def refund_create(payment_id, *, amount: int, refund_key: str, reason: str = "") -> SandboxRefund:
    payment = _locked(payment_id)
    if not refund_key:
        raise ApiError(400, "refund_key_required", "a refund key is required")
    existing = SandboxRefund.objects.filter(payment=payment, refund_key=refund_key).first()
    if existing is not None:
        if existing.amount != amount:
            raise ApiError(409, "refund_key_reused", "this refund key was used for another amount")
        return existing
    if payment.status not in (SandboxPayment.PAID, SandboxPayment.PARTIALLY_REFUNDED):
        raise ApiError(409, "not_refundable", f"a {payment.status} payment cannot be refunded")
    if not methods.REFUNDABLE[payment.family]:
        raise ApiError(400, "refund_unsupported", "refunds are not supported for bank transfers and store payments")
    if not isinstance(amount, int) or amount <= 0:
        raise ApiError(400, "invalid_amount", "the refund amount must be a positive integer")
    remaining = payment.gross_amount - payment.refunded_amount
    if amount > remaining:
        raise ApiError(400, "amount_too_large", f"at most {remaining} can still be refunded")
    if amount < payment.gross_amount and payment.method not in methods.PARTIAL_REFUND:
        raise ApiError(400, "partial_refund_unsupported", "this method only supports a full refund")
    refund = SandboxRefund(payment=payment, refund_key=refund_key, gateway_reference="rfd_" + secrets.token_hex(10),
                           amount=amount, reason=reason[:300])
    if amount % 1000 == methods.REFUND_FAIL_SUFFIX or faults_for(payment.merchant).refund_fail:
        refund.status = SandboxRefund.FAILED
        refund.failure_message = "the issuing bank refused the refund (simulated)"
        refund.save()
        webhooks.emit(payment, "refund.failed", {"refund_id": refund.gateway_reference, "refund_amount": amount})
        return refund
    refund.status = SandboxRefund.SUCCEEDED
    refund.save()
    before = payment.status
    payment.refunded_amount += amount
    payment.status = (SandboxPayment.REFUNDED if payment.refunded_amount == payment.gross_amount
                      else SandboxPayment.PARTIALLY_REFUNDED)
    payment.save(update_fields=["refunded_amount", "status", "updated_at"])
    _record(payment, "refunded", before)
    webhooks.emit(payment, "refund.succeeded", {"refund_id": refund.gateway_reference, "refund_amount": amount})
    return refund


@transaction.atomic
def faults_save(faults) -> None:
    """Save a faults row edited on the switchboard, with an audit entry."""
    faults.save()
    audit.record(faults, "sandbox_faults.changed", after={
        f: getattr(faults, f) for f in ("webhook_duplicate", "webhook_out_of_order", "webhook_delay_seconds",
                                        "webhook_forged", "webhook_lost", "api_fault", "api_fault_calls",
                                        "refund_fail")},
        workspace=faults.merchant.workspace if faults.merchant else None)
