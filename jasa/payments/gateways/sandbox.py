"""Adapter for the built-in sandbox gateway (jasa.sandbox), implementing the gateway protocol.

It talks to the sandbox "server" through ``jasa.sandbox.api`` in-process, with dicts shaped like
a JSON API, and translates: sandbox statuses to jasa's, 5xx/timeouts to GatewayError, 4xx to
GatewayDeclined. Credentials: ``{"merchant_id": ..., "secret_key": ...}`` (see
``jasa.sandbox.services.merchant_for_workspace``); webhooks are verified with ``secret_key``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from jasa.core import clock
from jasa.core.money import Money
from jasa.payments.gateways.base import (
    Capabilities,
    GatewayDeclined,
    GatewayError,
    GatewayPayment,
    GatewaySetup,
    Method,
    NextAction,
    PaymentNotFound,
    PaymentRequest,
    RefundResult,
    SavedMethodToken,
    SetupRequest,
    SetupStatus,
    Status,
    WebhookEvent,
    WebhookRejected,
    register,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
EVENT_HEADER = "X-Sandbox-Event-Id"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
TOLERANCE_SECONDS = 300

# sandbox status -> jasa status (a table under test)
STATUS_MAP: dict[str, Status] = {
    "pending": Status.REQUIRES_ACTION,
    "paid": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "expired": Status.EXPIRED,
    "canceled": Status.CANCELED,
    "partially_refunded": Status.PARTIALLY_REFUNDED,
    "refunded": Status.REFUNDED,
}

_NO_REFUND = Capabilities(refund=False, partial_refund=False)
_FULL_REFUND_ONLY = Capabilities(refund=True, partial_refund=False)
METHODS: dict[Method, Capabilities] = {
    Method.CARD: Capabilities(refund=True, partial_refund=True, save_for_recurring=True, off_session=True),
    Method.VA_BCA: _NO_REFUND,
    Method.VA_BNI: _NO_REFUND,
    Method.VA_BRI: _NO_REFUND,
    Method.VA_MANDIRI: _NO_REFUND,
    Method.VA_PERMATA: _NO_REFUND,
    Method.QRIS: _FULL_REFUND_ONLY,
    Method.GOPAY: Capabilities(),
    Method.OVO: _FULL_REFUND_ONLY,
    Method.DANA: Capabilities(),
    Method.SHOPEEPAY: Capabilities(),
    Method.INDOMARET: _NO_REFUND,
    Method.ALFAMART: _NO_REFUND,
}

T = TypeVar("T")


def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from jasa.sandbox.faults import ApiError

    try:
        return fn(*args, **kwargs)
    except ApiError as exc:
        if exc.status >= 500:
            raise GatewayError(f"sandbox gateway: {exc.message}") from exc
        if exc.status == 404 and exc.code == "not_found":
            raise PaymentNotFound(exc.message, code=exc.code) from exc
        raise GatewayDeclined(exc.message, code=exc.code) from exc


@register
class SandboxGateway:
    name: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox"
    methods: ClassVar[dict[Method, Capabilities]] = METHODS

    def __init__(self, credentials: Mapping[str, str], *, sandbox: bool = True) -> None:
        from jasa.sandbox.services import default_secret

        self.merchant_id = (credentials.get("merchant_id") or "default").strip()
        self.secret_key = credentials.get("secret_key") or default_secret(self.merchant_id)
        self.credentials = {"merchant_id": self.merchant_id, "secret_key": self.secret_key}
        self.sandbox = sandbox

    # --- requests -------------------------------------------------------------------------
    def _data(self, request: PaymentRequest) -> dict[str, Any]:
        return {
            "reference": request.reference,
            "gross_amount": request.amount.amount,
            "currency": request.amount.currency,
            "method": request.method.value if request.method else "",
            "description": request.description,
            "customer_name": request.customer_name,
            "customer_email": request.customer_email,
            "customer_phone": request.customer_phone,
            "return_url": request.return_url,
            "notification_url": request.notification_url,
            "expires_in_seconds": request.expires_in_seconds,
            "save_method": request.save_method,
            "metadata": dict(request.metadata),
            "allowed_methods": [m.value for m in request.allowed_methods],
            "livemode": not self.sandbox,
        }

    def create_checkout(self, request: PaymentRequest) -> GatewayPayment:
        from jasa.sandbox import api

        return self._payment(_call(api.create_checkout, self.credentials, self._data(request)), hosted=True)

    def create_direct(self, request: PaymentRequest) -> GatewayPayment:
        from jasa.sandbox import api

        if request.method is None:
            raise GatewayDeclined("a direct payment needs a method", code="method_required")
        # cards are never typed into jasa: a "direct" card payment is the hosted card form
        hosted = request.method is Method.CARD
        create = api.create_checkout if hosted else api.create_direct
        return self._payment(_call(create, self.credentials, self._data(request)), hosted=hosted)

    def charge_saved(self, request: PaymentRequest, token: str) -> GatewayPayment:
        from jasa.sandbox import api

        return self._payment(_call(api.charge_token, self.credentials, self._data(request), token), hosted=True)

    def forget_saved_method(self, token: str) -> None:
        """The sandbox revokes the token; an off-session charge with it is then refused (token_not_found)."""
        from jasa.sandbox import api

        try:
            _call(api.revoke_token, self.credentials, token)
        except GatewayDeclined as exc:
            if exc.code != "token_not_found":  # unknown there: nothing left to forget
                raise

    # --- saving a card without a payment (gateways.base.SavesWithoutPayment) ---------------
    def start_setup(self, request: SetupRequest) -> GatewaySetup:
        """The sandbox's hosted card form verifies the card for nothing and keeps it as a ``tok_...``."""
        from jasa.sandbox import api

        return _setup(_call(api.create_setup, self.credentials, {
            "reference": request.reference, "currency": request.currency, "description": request.description,
            "customer_name": request.customer_name, "customer_email": request.customer_email,
            "return_url": request.return_url, "notification_url": request.notification_url,
            "expires_in_seconds": request.expires_in_seconds, "metadata": dict(request.metadata),
            "livemode": not self.sandbox,
        }))

    # gateway_reference is accepted for the protocol; the sandbox finds setups by jasa's reference
    def get_setup(self, reference: str, *, gateway_reference: str = "") -> GatewaySetup:
        from jasa.sandbox import api

        return _setup(_call(api.get_setup, self.credentials, reference))

    def cancel_setup(self, reference: str, *, gateway_reference: str = "") -> GatewaySetup:
        from jasa.sandbox import api

        return _setup(_call(api.cancel_setup, self.credentials, reference))

    # gateway_reference is accepted for the protocol; the sandbox finds payments by jasa's reference
    def get_status(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        from jasa.sandbox import api

        data = _call(api.get_payment, self.credentials, reference)
        return self._payment(data, hosted=data["kind"] != "direct")

    def cancel(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        from jasa.sandbox import api

        data = _call(api.cancel, self.credentials, reference)
        return self._payment(data, hosted=data["kind"] != "direct")

    def refund(self, reference: str, amount: Money, *, refund_key: str, reason: str,
               gateway_reference: str = "") -> RefundResult:
        from jasa.sandbox import api

        data = _call(api.refund, self.credentials, reference, amount=amount.amount, refund_key=refund_key,
                     reason=reason)
        return RefundResult(gateway_reference=data["id"], status=data["status"],
                            amount=Money(data["amount"], data["currency"]),
                            failure_message=data["failure_message"], raw=data)

    def test_connection(self) -> str:
        from jasa.sandbox import api

        data = _call(api.ping, self.credentials)
        return f"Sandbox merchant {data['merchant_id']}: {data['payments']} payments"

    # --- answers ----------------------------------------------------------------------------
    def _payment(self, data: Mapping[str, Any], *, hosted: bool) -> GatewayPayment:
        status = STATUS_MAP[data["status"]]
        currency = data["currency"]
        method = Method(data["method"]) if data["method"] else None
        settled = status in (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)
        return GatewayPayment(
            gateway_reference=data["id"],
            status=status,
            amount=Money(data["gross_amount"], currency),
            method=method,
            next_action=_next_action(data, hosted) if status is Status.REQUIRES_ACTION else None,
            captured=Money(data["gross_amount"], currency) if settled else None,
            refunded=Money(data["refunded_amount"], currency) if data["refunded_amount"] else None,
            failure_code=data["failure_code"] if status is not Status.SUCCEEDED else "",
            failure_message=data["failure_message"],
            saved_method=_token(data),
            raw=dict(data),
        )

    # --- webhooks ---------------------------------------------------------------------------
    @staticmethod
    def status_of_claim(claimed_status: str) -> Status | None:
        """gateways.base.ReadsClaims: a notification carries the payment's sandbox status."""
        return STATUS_MAP.get(claimed_status)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        from jasa.sandbox.webhooks import sign

        lower = {k.lower(): v for k, v in headers.items()}
        signature = lower.get(SIGNATURE_HEADER.lower(), "")
        if not signature:
            raise WebhookRejected("missing X-Sandbox-Signature")
        if not hmac.compare_digest(signature, sign(self.secret_key, body)):
            raise WebhookRejected("bad signature")
        try:
            payload = json.loads(body)
            event_id = payload["event_id"]
            sent_at = payload["sent_at"]
            data = payload["data"]
            reference = data["reference"]
            kind = payload["type"]
        except (ValueError, TypeError, KeyError) as exc:
            raise WebhookRejected(f"malformed body: {exc}") from exc
        if not (isinstance(event_id, str) and event_id and isinstance(sent_at, int) and isinstance(reference, str)):
            raise WebhookRejected("malformed body: wrong field types")
        if lower.get(EVENT_HEADER.lower()) != event_id or lower.get(TIMESTAMP_HEADER.lower()) != str(sent_at):
            raise WebhookRejected("headers do not match the signed body")
        if payload.get("merchant_id") != self.merchant_id:
            raise WebhookRejected("notification for another merchant")
        if abs(clock.now().timestamp() - sent_at) > TOLERANCE_SECONDS:
            raise WebhookRejected("stale or future timestamp")
        return WebhookEvent(event_id=event_id, reference=reference, kind=str(kind),
                            claimed_status=str(data.get("status", "")), payload=payload)


def _token(data: Mapping[str, Any]) -> SavedMethodToken | None:
    token = data.get("token")
    if not token:
        return None
    return SavedMethodToken(token=token["token"], method=Method.CARD, brand=token["brand"], masked=token["masked"],
                            expiry_month=token["exp_month"], expiry_year=token["exp_year"])


def _setup(data: Mapping[str, Any]) -> GatewaySetup:
    status = SetupStatus(data["status"])
    return GatewaySetup(
        gateway_reference=data["id"], status=status, saved_method=_token(data),
        redirect_url=data["checkout_url"] if status is SetupStatus.PENDING else "",
        failure_code=data["failure_code"], failure_message=data["failure_message"], raw=dict(data),
    )


def _next_action(data: Mapping[str, Any], hosted: bool) -> NextAction:
    expires = data["expires_at"]
    if hosted or data["method"] in ("", Method.CARD.value):
        return NextAction(kind="redirect", url=data["checkout_url"], expires_at=expires)
    if data["va_number"]:
        return NextAction(kind="va_number", va_number=data["va_number"], bank=data["bank"], expires_at=expires,
                          biller_code=data["biller_code"], url=data["checkout_url"])
    if data["qr_string"]:
        # url: the page showing the code (the image alone is raw["qr_url"])
        return NextAction(kind="qr", qr_string=data["qr_string"], url=data["checkout_url"], expires_at=expires)
    if data["store_code"]:
        return NextAction(kind="store_code", store_code=data["store_code"], expires_at=expires,
                          url=data["checkout_url"])
    return NextAction(kind="deeplink", url=data["deeplink_url"], expires_at=expires)
