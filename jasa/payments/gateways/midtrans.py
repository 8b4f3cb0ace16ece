"""Midtrans adapter over the official ``midtransclient``: Snap for the hosted page, Core API for direct
methods and saved-card charges, the status API as the source of truth.

Credentials: ``server_key`` (required), ``client_key`` (for Snap's front end, unused here),
optional ``timeout`` (seconds, default 15) and ``core_api_url`` / ``snap_url`` to point the SDK at
another host (a proxy, or the local fake in tests). Amounts: Midtrans takes whole rupiah, which is
jasa's IDR minor unit (exponent 0), so the integer passes through unchanged; other currencies are refused.

No ``forget_saved_method`` (see gateways.base.ForgetsSavedMethods): Midtrans documents no API that deletes
a card's ``saved_token_id`` (its card API registers and charges tokens; a token lapses with the card's
expiry, ``saved_token_id_expired_at``). Removing a Midtrans card in jasa therefore only stops jasa from
charging it (jasa never charges an inactive method); Midtrans keeps the token until it lapses.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import midtransclient
import requests
from django.utils.translation import gettext_noop
from midtransclient.config import ApiConfig
from midtransclient.error_midtrans import JSONDecodeError, MidtransAPIError
from midtransclient.http_client import HttpClient

from jasa.core.money import Money
from jasa.payments.gateways.base import (
    Capabilities,
    GatewayDeclined,
    GatewayError,
    GatewayPayment,
    Method,
    NextAction,
    PaymentNotFound,
    PaymentRequest,
    RefundResult,
    SavedMethodToken,
    Status,
    WebhookEvent,
    WebhookRejected,
    hosted_codes,
    register,
    request_timeout,
)

# (transaction_status, fraud_status) -> jasa status; fraud_status "*" matches any. Checked in order.
STATUS_TABLE: tuple[tuple[str, str, Status], ...] = (
    ("capture", "accept", Status.SUCCEEDED),
    ("capture", "challenge", Status.PROCESSING),  # held for the merchant's fraud review
    ("capture", "deny", Status.FAILED),
    ("capture", "*", Status.SUCCEEDED),  # no fraud_status: a plain capture
    ("settlement", "*", Status.SUCCEEDED),
    ("authorize", "*", Status.PROCESSING),  # pre-authorised card, capture pending
    ("pending", "*", Status.REQUIRES_ACTION),  # waiting for the client to pay (VA, QR, store, 3DS)
    ("deny", "*", Status.FAILED),
    ("failure", "*", Status.FAILED),
    ("cancel", "*", Status.CANCELED),
    ("expire", "*", Status.EXPIRED),
    ("refund", "*", Status.REFUNDED),
    ("partial_refund", "*", Status.PARTIALLY_REFUNDED),
    ("chargeback", "*", Status.DISPUTED),
    ("partial_chargeback", "*", Status.DISPUTED),
)


# Facts beside the status (GatewayPayment.authorized / .settled). Midtrans' status cycle: ``authorize`` holds a
# pre-authorised card until it is captured; ``settlement`` means the funds reached the merchant, and only
# leads on to the refund and chargeback statuses, so those imply it too. A card goes capture -> settlement
# (next day); VA, QRIS, e-wallets and stores go pending -> settlement (settling is their payment).
AUTHORIZED_STATUSES = frozenset({"authorize"})
SETTLED_STATUSES = frozenset({"settlement", "refund", "partial_refund", "chargeback", "partial_chargeback"})


def map_status(transaction_status: str, fraud_status: str = "") -> Status:
    for tx, fraud, status in STATUS_TABLE:
        if tx == transaction_status and fraud in ("*", fraud_status or ""):
            return status
    raise GatewayError(f"Midtrans sent an unknown transaction_status {transaction_status!r}")


# jasa method -> Core API charge body fragment (besides transaction_details).
_VA_BANKS = {Method.VA_BCA: "bca", Method.VA_BNI: "bni", Method.VA_BRI: "bri", Method.VA_PERMATA: "permata"}
_STORES = {Method.INDOMARET: "indomaret", Method.ALFAMART: "alfamart"}
# Snap's enabled_payments codes (docs.midtrans.com/reference: each Snap payment channel's page), for a
# hosted page limited to the one method asked for or to the methods the business enabled.
_SNAP_CODES = {
    Method.CARD: "credit_card",
    **{m: f"{bank}_va" for m, bank in _VA_BANKS.items()},
    Method.VA_MANDIRI: "echannel",
    Method.QRIS: "other_qris",
    Method.GOPAY: "gopay",
    Method.SHOPEEPAY: "shopeepay",
    Method.INDOMARET: "indomaret",
    Method.ALFAMART: "alfamart",
}
# payment_type (+ bank/store) in Midtrans answers -> jasa method.
_PAYMENT_TYPES = {"credit_card": Method.CARD, "qris": Method.QRIS, "gopay": Method.GOPAY,
                  "shopeepay": Method.SHOPEEPAY, "echannel": Method.VA_MANDIRI}

_REFUNDABLE = Capabilities(refund=True, partial_refund=True)
_NOT_REFUNDABLE = Capabilities(refund=False, partial_refund=False)  # Midtrans refunds no VA or store payment


class _Config(ApiConfig):
    """ApiConfig whose base URLs can be overridden per instance (the SDK keeps them as class constants)."""

    def __init__(self, *, core_url: str, snap_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._core_url = core_url.rstrip("/")
        self._snap_url = snap_url.rstrip("/")

    def get_core_api_base_url(self) -> str:
        return self._core_url or super().get_core_api_base_url()

    def get_snap_base_url(self) -> str:
        return self._snap_url or super().get_snap_base_url()


class _TimeoutSession(requests.Session):
    """midtransclient calls ``http_client.request(...)`` without a timeout; this session adds one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


@register
class MidtransGateway:
    name: ClassVar[str] = "midtrans"
    label: ClassVar[str] = "Midtrans"
    # What the gateway settings form asks for (optional: timeout and base-URL overrides).
    credential_fields: ClassVar[tuple[str, ...]] = ("server_key", "client_key")
    methods: ClassVar[dict[Method, Capabilities]] = {
        Method.CARD: Capabilities(refund=True, partial_refund=True, save_for_recurring=True, off_session=True),
        Method.VA_BCA: _NOT_REFUNDABLE,
        Method.VA_BNI: _NOT_REFUNDABLE,
        Method.VA_BRI: _NOT_REFUNDABLE,
        Method.VA_MANDIRI: _NOT_REFUNDABLE,
        Method.VA_PERMATA: _NOT_REFUNDABLE,
        Method.QRIS: _REFUNDABLE,
        Method.GOPAY: _REFUNDABLE,
        Method.SHOPEEPAY: _REFUNDABLE,
        Method.INDOMARET: _NOT_REFUNDABLE,
        Method.ALFAMART: _NOT_REFUNDABLE,
    }

    def __init__(self, credentials: Mapping[str, str], *, sandbox: bool = True) -> None:
        self.server_key = credentials.get("server_key", "")
        self.sandbox = sandbox
        timeout = request_timeout(credentials)
        config: dict[str, Any] = {
            "core_url": credentials.get("core_api_url", ""),
            "snap_url": credentials.get("snap_url", ""),
            "is_production": not sandbox,
            "server_key": self.server_key,
            "client_key": credentials.get("client_key", ""),
        }
        http = HttpClient()
        http.http_client = _TimeoutSession(timeout)
        self._core = midtransclient.CoreApi()
        self._core.api_config = _Config(**config)
        self._core.http_client = http
        self._snap = midtransclient.Snap()
        self._snap.api_config = _Config(**config)
        self._snap.http_client = http

    # --- creating payments ---------------------------------------------------------
    def create_checkout(self, request: PaymentRequest) -> GatewayPayment:
        body: dict[str, Any] = {
            **self._base_body(request),
            "credit_card": {"secure": True, "save_card": request.save_method},
        }
        if request.save_method and request.customer_email:
            # Snap's token storage offers "save card" only with a user_id; Midtrans asks for one not easily
            # linked to the customer, so a keyed hash of their email (the same client gets the same id).
            body["user_id"] = _snap_user_id(self.server_key, request.customer_email)
        enabled = hosted_codes(request, _SNAP_CODES, self.label)
        if enabled is not None:  # without it Snap lists every method the merchant account has
            body["enabled_payments"] = enabled
        if request.return_url:
            body["callbacks"] = {"finish": request.return_url}
        if request.expires_in_seconds:
            body["expiry"] = {"unit": "minute", "duration": max(1, request.expires_in_seconds // 60)}
        with _notify_to(self._snap, request.notification_url):
            answer = self._call(self._snap.create_transaction, body)
        return GatewayPayment(
            gateway_reference=answer["token"],
            status=Status.REQUIRES_ACTION,
            amount=request.amount,
            method=request.method,
            next_action=NextAction(kind="redirect", url=answer["redirect_url"]),
            raw=answer,
        )

    def create_direct(self, request: PaymentRequest) -> GatewayPayment:
        method = self._supported(request.method)
        body = {**self._base_body(request), **_direct_fragment(method, request)}
        if request.expires_in_seconds:
            body["custom_expiry"] = {"expiry_duration": max(1, request.expires_in_seconds // 60), "unit": "minute"}
        return self._charge(request, body)

    def charge_saved(self, request: PaymentRequest, token: str) -> GatewayPayment:
        body = {
            **self._base_body(request),
            "payment_type": "credit_card",
            # A saved_token_id from an earlier charge with save_token_id=true; no 3DS for recurring.
            "credit_card": {"token_id": token, "authentication": False},
        }
        return self._charge(request, body)

    def _charge(self, request: PaymentRequest, body: dict[str, Any]) -> GatewayPayment:
        try:
            with _notify_to(self._core, request.notification_url):
                answer = self._call(self._core.charge, body)
        except GatewayDeclined as exc:
            if exc.code == "406":
                # Duplicate order_id: an earlier attempt with this reference reached Midtrans
                # (e.g. we timed out on its answer). Report that one; never charge twice.
                return self.get_status(request.reference)
            raise
        payment = self._payment(answer)
        if payment.status is Status.FAILED:
            raise GatewayDeclined(
                answer.get("channel_response_message") or answer.get("status_message") or gettext_noop("Declined by Midtrans"),
                code=str(answer.get("channel_response_code") or answer.get("status_code") or "deny"),
            )
        return payment

    # --- reading and changing payments ----------------------------------------------
    def get_status(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        return self._payment(self._call(self._core.transactions.status, reference))

    def cancel(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        current = self.get_status(reference)
        if current.status is not Status.REQUIRES_ACTION and current.status is not Status.PROCESSING:
            return current  # already final: nothing to cancel
        # A pending VA/QR/store payment is expired; a card (challenge/authorize) is cancelled.
        action = self._core.transactions.cancel if current.method is Method.CARD else self._core.transactions.expire
        self._call(action, reference)
        return self.get_status(reference)

    def refund(self, reference: str, amount: Money, *, refund_key: str, reason: str,
               gateway_reference: str = "") -> RefundResult:
        body = {"refund_key": refund_key, "amount": _to_midtrans(amount), "reason": reason[:255]}
        answer = self._call(self._core.transactions.refund, reference, body)
        return RefundResult(
            gateway_reference=str(answer.get("refund_chargeback_id") or refund_key),
            status="succeeded",
            amount=_money(answer.get("refund_amount"), amount),
            raw=answer,
        )

    # --- webhooks ---------------------------------------------------------------------
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        try:
            data = json.loads(body)
            order_id, status_code, gross = data["order_id"], data["status_code"], data["gross_amount"]
            claimed = data["signature_key"]
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("not a Midtrans notification (missing order_id/status_code/gross_amount/signature)")
        if not all(isinstance(value, str) for value in (order_id, status_code, gross)):
            # Midtrans sends them as strings; the signature covers their text, so another type is not its body
            raise WebhookRejected("not a Midtrans notification (order_id/status_code/gross_amount are not strings)")
        if not isinstance(claimed, str) or not self.server_key:
            raise WebhookRejected("no signature or no server key to check it with")
        if not hmac.compare_digest(signature(order_id, status_code, gross, self.server_key), claimed.lower()):
            raise WebhookRejected("Midtrans signature_key does not match")
        status = str(data.get("transaction_status", ""))
        # Midtrans repeats a notification until it gets a 2xx: the same state -> the same event id.
        parts = [str(data.get("transaction_id") or order_id), status, str(data.get("fraud_status") or "")]
        if data.get("refund_amount"):
            parts.append(str(data["refund_amount"]))
        return WebhookEvent(event_id=":".join(parts), reference=order_id, kind=f"midtrans.{status or 'notification'}",
                            claimed_status=status, payload=data)

    def test_connection(self) -> str:
        try:
            self.get_status("jasa-connection-test")
        except PaymentNotFound:
            return f"Midtrans {'sandbox' if self.sandbox else 'production'}: server key accepted"
        return "Midtrans: server key accepted"

    # --- internals --------------------------------------------------------------------
    def _base_body(self, request: PaymentRequest) -> dict[str, Any]:
        first, _, last = request.customer_name.partition(" ")
        customer = {"first_name": first, "last_name": last, "email": request.customer_email}
        if request.customer_phone:
            customer["phone"] = request.customer_phone
        return {
            # order_id is jasa's reference: Midtrans refuses a second transaction with it (406).
            "transaction_details": {"order_id": request.reference, "gross_amount": _to_midtrans(request.amount)},
            "item_details": [{"id": request.reference[:50], "price": _to_midtrans(request.amount), "quantity": 1,
                              "name": request.description[:50] or request.reference[:50]}],
            "customer_details": customer,
            "custom_field1": request.metadata.get("workspace", "")[:255],
        }

    def _supported(self, method: Method | None) -> Method:
        if method is None or method not in self.methods:
            raise GatewayDeclined(gettext_noop("Midtrans does not offer this payment method here."),
                                  code="unsupported_method")
        return method

    @staticmethod
    def _call(fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except MidtransAPIError as exc:
            answer = exc.api_response_dict or {}
            try:
                code = int(answer.get("status_code") or exc.http_status_code)
            except (TypeError, ValueError):
                code = exc.http_status_code
            message = _message(answer) or f"Midtrans answered {code}"
            if code >= 500 or exc.http_status_code >= 500:
                raise GatewayError(f"Midtrans is unavailable ({code}): {message}")
            if code == 404:
                raise PaymentNotFound(message, code="404")
            raise GatewayDeclined(message, code=str(code))
        except JSONDecodeError as exc:
            raise GatewayError(f"Midtrans answered something that is not JSON: {exc}")
        except requests.RequestException as exc:
            raise GatewayError(f"Midtrans could not be reached: {exc.__class__.__name__}")

    def _payment(self, answer: Mapping[str, Any]) -> GatewayPayment:
        transaction_status = str(answer.get("transaction_status", ""))
        status = map_status(transaction_status, str(answer.get("fraud_status") or ""))
        amount = _money(answer.get("gross_amount"), None)
        method = _method_of(answer)
        refunded = _money(answer.get("refund_amount"), None) if answer.get("refund_amount") else None
        saved = None
        if answer.get("saved_token_id"):
            saved = SavedMethodToken(token=answer["saved_token_id"], method=Method.CARD,
                                     brand=str(answer.get("card_type") or answer.get("bank") or ""),
                                     masked=str(answer.get("masked_card") or ""))
        return GatewayPayment(
            gateway_reference=str(answer.get("transaction_id", "")),
            status=status,
            amount=amount,
            method=method,
            next_action=_next_action(answer) if status is Status.REQUIRES_ACTION else None,
            captured=amount if status in (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED) else None,
            refunded=refunded,
            failure_code=str(answer.get("channel_response_code") or "") if status is Status.FAILED else "",
            failure_message=str(answer.get("channel_response_message") or answer.get("status_message") or "")
            if status is Status.FAILED else "",
            saved_method=saved,
            raw=dict(answer),
            authorized=transaction_status in AUTHORIZED_STATUSES,
            settled=transaction_status in SETTLED_STATUSES,
        )


@contextlib.contextmanager
def _notify_to(api: Any, url: str) -> Iterator[None]:
    """Midtrans takes the webhook URL per request in X-Override-Notification; only creates carry it."""
    api.api_config.custom_headers = {"X-Override-Notification": url} if url else {}
    try:
        yield
    finally:
        api.api_config.custom_headers = {}


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """Midtrans' notification signature: SHA-512 hex of order_id + status_code + gross_amount + server key."""
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


def _to_midtrans(money: Money) -> int:
    if money.currency != "IDR":
        raise GatewayDeclined(gettext_noop("Midtrans only charges in IDR."), code="currency")
    return money.amount  # jasa's IDR minor unit is the whole rupiah Midtrans expects


def _money(value: Any, fallback: Money | None) -> Money:
    """Midtrans sends amounts as strings with two decimals ("150000.00")."""
    if value in (None, ""):
        if fallback is None:
            raise GatewayError("Midtrans answer carries no amount")
        return fallback
    try:
        return Money.from_major(Decimal(str(value)), "IDR")
    except (InvalidOperation, ValueError):
        raise GatewayError(f"Midtrans sent an amount jasa cannot read: {value!r}")


def _message(answer: Mapping[str, Any]) -> str:
    msg = answer.get("status_message") or answer.get("error_messages") or ""
    return "; ".join(msg) if isinstance(msg, list) else str(msg)


def _method_of(answer: Mapping[str, Any]) -> Method | None:
    payment_type = answer.get("payment_type", "")
    if payment_type == "bank_transfer":
        if answer.get("permata_va_number"):
            return Method.VA_PERMATA
        banks = {bank: m for m, bank in _VA_BANKS.items()}
        for va in answer.get("va_numbers") or []:
            if va.get("bank") in banks:
                return banks[va["bank"]]
        return None
    if payment_type == "cstore":
        store = str(answer.get("store", "")).lower()
        return {s: m for m, s in _STORES.items()}.get(store)
    return _PAYMENT_TYPES.get(payment_type)


def _next_action(answer: Mapping[str, Any]) -> NextAction:
    expires = str(answer.get("expiry_time") or "")
    actions = {a.get("name"): a.get("url", "") for a in answer.get("actions") or []}
    if answer.get("permata_va_number"):
        return NextAction(kind="va_number", va_number=answer["permata_va_number"], bank="permata", expires_at=expires)
    if answer.get("va_numbers"):
        va = answer["va_numbers"][0]
        return NextAction(kind="va_number", va_number=va["va_number"], bank=va["bank"], expires_at=expires)
    if answer.get("bill_key"):
        # Mandiri bill payment: the client enters the company (biller) code, then the bill key.
        return NextAction(kind="va_number", va_number=answer["bill_key"], bank="mandiri",
                          biller_code=str(answer.get("biller_code") or ""), expires_at=expires)
    if answer.get("payment_code"):
        return NextAction(kind="store_code", store_code=answer["payment_code"], expires_at=expires)
    if answer.get("qr_string") and answer.get("payment_type") == "qris":
        return NextAction(kind="qr", qr_string=answer["qr_string"], url=actions.get("generate-qr-code", ""),
                          expires_at=expires)
    if "deeplink-redirect" in actions:
        return NextAction(kind="deeplink", url=actions["deeplink-redirect"], qr_string=str(answer.get("qr_string") or ""),
                          expires_at=expires)
    if answer.get("redirect_url"):  # 3-D Secure
        return NextAction(kind="redirect", url=answer["redirect_url"], expires_at=expires)
    return NextAction(kind="none", expires_at=expires)


def _direct_fragment(method: Method, request: PaymentRequest) -> dict[str, Any]:
    if method in _VA_BANKS:
        return {"payment_type": "bank_transfer", "bank_transfer": {"bank": _VA_BANKS[method]}}
    if method is Method.VA_MANDIRI:
        return {"payment_type": "echannel",
                "echannel": {"bill_info1": "Payment:", "bill_info2": request.description[:10] or "jasa"}}
    if method is Method.QRIS:
        return {"payment_type": "qris", "qris": {"acquirer": "gopay"}}
    if method is Method.GOPAY:
        return {"payment_type": "gopay", "gopay": {"enable_callback": bool(request.return_url),
                                                   "callback_url": request.return_url}}
    if method is Method.SHOPEEPAY:
        return {"payment_type": "shopeepay", "shopeepay": {"callback_url": request.return_url}}
    if method in _STORES:
        return {"payment_type": "cstore", "cstore": {"store": _STORES[method], "message": request.description[:20]}}
    # Cards are tokenised in the browser (Snap), never here.
    raise GatewayDeclined(gettext_noop("This payment method cannot be charged directly through Midtrans; use the "
                                       "hosted page."), code="unsupported_method")


def _snap_user_id(server_key: str, email: str) -> str:
    """Snap's ``user_id`` for a client: HMAC-SHA256 of the email under the server key (at most 255 chars)."""
    return hmac.new(server_key.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()
