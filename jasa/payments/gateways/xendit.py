"""Xendit adapter over the official ``xendit-python`` (v7) SDK.

Invoices API for the hosted page, Payment Requests API for direct methods (VA, QRIS, e-wallets,
convenience stores) and for renewals from a MULTIPLE_USE payment method, Refunds API, and the invoice
or payment request as the source of truth.

The SDK's ``ApiClient`` carries every request (host, Basic auth with the secret key, headers, error
handling); bodies are the documented JSON as plain dicts rather than the generated models, because the
models type amounts as floats (jasa never lets a float near money) and reject enum values newer
than the SDK, which would turn a new Xendit status into an outage.

Credentials: ``secret_key`` (required), ``callback_token`` (the dashboard's webhook verification token,
compared with ``x-callback-token``), optional ``timeout`` (seconds, default 15) and ``api_base``
(another host: the local fake in tests). Amounts: Xendit takes whole rupiah, jasa's IDR minor unit.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

import urllib3
from django.utils.translation import gettext_noop
from xendit import ApiClient, Configuration
from xendit.exceptions import OpenApiException, XenditSdkException

from jasa.core import clock
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

API_BASE = "https://api.xendit.co"
REFERENCE_KEY = "jasa_reference"

# Invoice.status -> jasa status.
INVOICE_STATUS: dict[str, Status] = {
    "PENDING": Status.REQUIRES_ACTION,  # the client has the page and has not paid
    "PAID": Status.SUCCEEDED,
    "SETTLED": Status.SUCCEEDED,  # paid, and the money reached the balance
    "EXPIRED": Status.EXPIRED,
}
# PaymentRequest.status -> jasa status.
PAYMENT_REQUEST_STATUS: dict[str, Status] = {
    "PENDING": Status.REQUIRES_ACTION,  # VA/QR/store code issued, waiting for the client to pay
    "REQUIRES_ACTION": Status.REQUIRES_ACTION,  # e-wallet authorisation, 3DS
    "AWAITING_CAPTURE": Status.PROCESSING,
    "UNKNOWN": Status.PROCESSING,  # Xendit is still asking the channel: ask again later
    "SUCCEEDED": Status.SUCCEEDED,
    "FAILED": Status.FAILED,
    "CANCELED": Status.CANCELED,
    "VOIDED": Status.CANCELED,
    "EXPIRED": Status.EXPIRED,
}
REFUND_STATUS = {"SUCCEEDED": "succeeded", "PENDING": "pending", "FAILED": "failed", "CANCELLED": "failed"}

# jasa method -> (Payment Request payment_method type, its key, channel_code); also invoice payment_methods.
_CHANNELS: dict[Method, tuple[str, str, str]] = {
    Method.VA_BCA: ("VIRTUAL_ACCOUNT", "virtual_account", "BCA"),
    Method.VA_BNI: ("VIRTUAL_ACCOUNT", "virtual_account", "BNI"),
    Method.VA_BRI: ("VIRTUAL_ACCOUNT", "virtual_account", "BRI"),
    Method.VA_MANDIRI: ("VIRTUAL_ACCOUNT", "virtual_account", "MANDIRI"),
    Method.VA_PERMATA: ("VIRTUAL_ACCOUNT", "virtual_account", "PERMATA"),
    Method.QRIS: ("QR_CODE", "qr_code", "QRIS"),
    Method.OVO: ("EWALLET", "ewallet", "OVO"),
    Method.DANA: ("EWALLET", "ewallet", "DANA"),
    Method.SHOPEEPAY: ("EWALLET", "ewallet", "SHOPEEPAY"),
    Method.INDOMARET: ("OVER_THE_COUNTER", "over_the_counter", "INDOMARET"),
    Method.ALFAMART: ("OVER_THE_COUNTER", "over_the_counter", "ALFAMART"),
}
# Invoice payment_methods codes (the channel codes above, and CREDIT_CARD), for an invoice limited to the
# one method asked for or to the methods the business enabled.
_INVOICE_CODES = {**{m: c for m, (_, _, c) in _CHANNELS.items()}, Method.CARD: "CREDIT_CARD"}
_BY_CHANNEL = {c: m for m, c in _INVOICE_CODES.items()}

_NO_REFUND = Capabilities(refund=False, partial_refund=False)
_EWALLET = Capabilities(refund=True, partial_refund=True, save_for_recurring=True, off_session=True)


@register
class XenditGateway:
    name: ClassVar[str] = "xendit"
    label: ClassVar[str] = "Xendit"
    # What the gateway settings form asks for (optional: timeout and base-URL overrides).
    credential_fields: ClassVar[tuple[str, ...]] = ("secret_key", "callback_token")
    methods: ClassVar[dict[Method, Capabilities]] = {
        # Cards are entered on the invoice page only (create_direct refuses them), and a paid invoice hands
        # back no reusable card token (a multiple-use one comes from tokenising the card in the merchant's
        # own page with Xendit.js, which jasa does not embed: SAQ A). So this adapter can neither save a
        # card nor charge one off-session; Xendit renewals use a saved e-wallet, or a pay link.
        Method.CARD: Capabilities(refund=True, partial_refund=True, save_for_recurring=False, off_session=False),
        Method.VA_BCA: _NO_REFUND,
        Method.VA_BNI: _NO_REFUND,
        Method.VA_BRI: _NO_REFUND,
        Method.VA_MANDIRI: _NO_REFUND,
        Method.VA_PERMATA: _NO_REFUND,
        Method.QRIS: Capabilities(refund=True, partial_refund=False),  # partial refunds depend on the issuer
        Method.OVO: _EWALLET,
        Method.DANA: _EWALLET,
        Method.SHOPEEPAY: _EWALLET,
        Method.INDOMARET: _NO_REFUND,
        Method.ALFAMART: _NO_REFUND,
    }

    def __init__(self, credentials: Mapping[str, str], *, sandbox: bool = True) -> None:
        self.sandbox = sandbox  # Xendit tells test from live by the key itself
        self.callback_token = credentials.get("callback_token", "")
        self.timeout = request_timeout(credentials)
        config = Configuration(host=(credentials.get("api_base") or API_BASE).rstrip("/"),
                               api_key=credentials.get("secret_key", ""))
        config.retries = False  # one attempt per call: the core retries with the same reference
        self._api = ApiClient(config)

    # --- creating payments ---------------------------------------------------------
    def create_checkout(self, request: PaymentRequest) -> GatewayPayment:
        _check_currency(request.amount)
        allowed = hosted_codes(request, _INVOICE_CODES, self.label)
        existing = self._find_invoice(request.reference)
        if existing is not None:  # a retried create: the invoice is already there, never make a second
            return self._invoice_payment(existing)
        body: dict[str, Any] = {
            "external_id": request.reference,
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "description": request.description or request.reference,
            "customer": {"given_names": request.customer_name,
                         **({"email": request.customer_email} if request.customer_email else {}),
                         **({"mobile_number": request.customer_phone} if request.customer_phone else {})},
            "metadata": {**request.metadata, REFERENCE_KEY: request.reference},
        }
        if request.customer_email:
            body["payer_email"] = request.customer_email
        if allowed is not None:  # without it the invoice lists every method the Xendit account has
            body["payment_methods"] = allowed
        if request.return_url:
            body["success_redirect_url"] = body["failure_redirect_url"] = request.return_url
        if request.expires_in_seconds:
            body["invoice_duration"] = request.expires_in_seconds
        return self._invoice_payment(self._request("POST", "/v2/invoices", body=body))

    def create_direct(self, request: PaymentRequest) -> GatewayPayment:
        method = self._supported(request.method)
        if method is Method.CARD:
            raise GatewayDeclined(gettext_noop("Cards are entered on Xendit's page; use the hosted checkout"),
                                  code="unsupported_method")
        kind, key, channel = _CHANNELS[method]
        properties: dict[str, Any] = {}
        if kind in ("VIRTUAL_ACCOUNT", "OVER_THE_COUNTER"):
            properties["customer_name"] = request.customer_name
        if request.expires_in_seconds and kind != "EWALLET":
            properties["expires_at"] = (clock.now() + timedelta(seconds=request.expires_in_seconds)).isoformat()
        if kind == "EWALLET":
            properties["success_return_url"] = request.return_url
            properties["failure_return_url"] = request.return_url
            if method is Method.OVO:
                properties["mobile_number"] = request.customer_phone
        payment_method: dict[str, Any] = {
            "type": kind,
            "reusability": "MULTIPLE_USE" if request.save_method and kind == "EWALLET" else "ONE_TIME_USE",
            "reference_id": request.reference,
            key: {"channel_code": channel, "channel_properties": properties},
        }
        if kind == "VIRTUAL_ACCOUNT":
            payment_method[key]["amount"] = request.amount.amount
            payment_method[key]["currency"] = request.amount.currency
        return self._create_payment_request(request, {"payment_method": payment_method})

    def charge_saved(self, request: PaymentRequest, token: str) -> GatewayPayment:
        payment = self._create_payment_request(request, {"payment_method_id": token})
        if payment.status is Status.FAILED:
            raise GatewayDeclined(payment.failure_message or gettext_noop("Declined by Xendit"), code=payment.failure_code)
        return payment

    def _create_payment_request(self, request: PaymentRequest, fragment: dict[str, Any]) -> GatewayPayment:
        _check_currency(request.amount)
        body = {
            "reference_id": request.reference,
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "country": "ID",
            "description": request.description,
            "metadata": {**request.metadata, REFERENCE_KEY: request.reference},
            **fragment,
        }
        try:
            answer = self._request("POST", "/payment_requests", body=body, idempotency_key=request.reference)
        except GatewayDeclined as exc:
            if exc.code != "409":
                raise
            # The same reference was already sent (we lost the first answer): report that one.
            return self.get_status(request.reference)
        return self._payment_request_payment(answer)

    # --- reading and changing payments ----------------------------------------------
    def get_status(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        if gateway_reference.startswith("pr-"):
            return self._payment_request_payment(self._request("GET", f"/payment_requests/{gateway_reference}"))
        if gateway_reference:
            return self._invoice_payment(self._request("GET", f"/v2/invoices/{gateway_reference}"))
        found = self._request("GET", "/payment_requests", query=[("reference_id", reference)])
        if found.get("data"):
            return self._payment_request_payment(found["data"][0])
        invoice = self._find_invoice(reference)
        if invoice is None:
            raise PaymentNotFound(f"Xendit has no payment for {reference}", code="not_found")
        return self._invoice_payment(invoice)

    def cancel(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        current = self.get_status(reference, gateway_reference=gateway_reference)
        if current.status is not Status.REQUIRES_ACTION:
            return current
        if current.gateway_reference.startswith("pr-"):
            # A payment request ends when its one-time payment method is expired.
            pm_id = (current.raw.get("payment_method") or {}).get("id", "")
            self._request("POST", f"/v2/payment_methods/{pm_id}/expire")
        else:
            self._request("POST", f"/invoices/{current.gateway_reference}/expire!")
        return self.get_status(reference, gateway_reference=current.gateway_reference)

    def forget_saved_method(self, token: str) -> None:
        """Expire the MULTIPLE_USE payment method (``POST /v2/payment_methods/{id}/expire``): Xendit then
        refuses payment requests with it. One Xendit no longer knows (404) is already gone."""
        try:
            self._request("POST", f"/v2/payment_methods/{token}/expire")
        except PaymentNotFound:
            return

    def refund(self, reference: str, amount: Money, *, refund_key: str, reason: str,
               gateway_reference: str = "") -> RefundResult:
        _check_currency(amount)
        paid = self.get_status(reference, gateway_reference=gateway_reference)
        target = "payment_request_id" if paid.gateway_reference.startswith("pr-") else "invoice_id"
        body = {
            target: paid.gateway_reference,
            "reference_id": refund_key,
            "amount": amount.amount,
            "currency": amount.currency,
            "reason": "REQUESTED_BY_CUSTOMER",
            "metadata": {REFERENCE_KEY: reference, "reason": reason[:200]},
        }
        answer = self._request("POST", "/refunds", body=body, idempotency_key=refund_key)
        return RefundResult(
            gateway_reference=answer["id"],
            status=REFUND_STATUS.get(answer.get("status", ""), "pending"),
            amount=Money(int(answer["amount"]), answer.get("currency", amount.currency)),
            failure_message=str(answer.get("failure_code") or ""),
            raw=answer,
        )

    # --- webhooks ---------------------------------------------------------------------
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        lowered = {k.lower(): v for k, v in headers.items()}
        token = lowered.get("x-callback-token", "")
        if not self.callback_token or not hmac.compare_digest(token.encode(), self.callback_token.encode()):
            raise WebhookRejected("x-callback-token does not match the configured verification token")
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise TypeError
            if "event" in data:  # Payment Requests / Refunds: {"event": ..., "data": {...}}
                obj, kind = data["data"], str(data["event"])
                default_id = f"{kind}:{obj['id']}"
                metadata = obj.get("metadata") or {}
                if not isinstance(metadata, dict):
                    raise TypeError("metadata is not an object")
                reference = metadata.get(REFERENCE_KEY) or obj.get("reference_id")
            else:  # Invoice callback: the invoice itself
                obj, kind = data, "invoice"
                default_id = f"invoice:{obj['id']}:{obj['status']}"
                reference = obj["external_id"]
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("not a Xendit callback")
        return WebhookEvent(event_id=lowered.get("webhook-id") or default_id, reference=str(reference or ""),
                            kind=f"xendit.{kind}", claimed_status=str(obj.get("status") or ""), payload=data)

    def test_connection(self) -> str:
        balance = self._request("GET", "/balance")
        return f"Xendit: secret key accepted (balance {balance.get('balance', '?')})"

    # --- internals --------------------------------------------------------------------
    def _supported(self, method: Method | None) -> Method:
        if method is None or method not in self.methods:
            raise GatewayDeclined(gettext_noop("Xendit does not offer this payment method here."),
                                  code="unsupported_method")
        return method

    def _find_invoice(self, reference: str) -> dict[str, Any] | None:
        found = self._request("GET", "/v2/invoices", query=[("external_id", reference)])
        return found[0] if isinstance(found, list) and found else None

    def _request(self, method: str, path: str, *, body: Any = None, query: list[tuple[str, str]] | None = None,
                 idempotency_key: str = "") -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        try:
            response = self._api.call_api(path, method, query_params=query, header_params=headers, body=body,
                                          _preload_content=False, _request_timeout=self.timeout)
            return json.loads(response.data or b"null")
        except XenditSdkException as exc:
            status = int(exc.status or 0) if str(exc.status or "").isdigit() else 0
            message = exc.errorMessage or f"Xendit answered {status}"
            if status >= 500 or status == 0:
                raise GatewayError(f"Xendit is unavailable ({status}): {message}")
            if status == 404:
                raise PaymentNotFound(message, code="404")
            raise GatewayDeclined(message, code="409" if status == 409 else str(exc.errorCode or status))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise GatewayError(f"Xendit could not be reached: {exc.__class__.__name__}")
        except (ValueError, OpenApiException) as exc:
            # A 5xx page that is not JSON ends up here (the SDK parses error bodies as JSON).
            raise GatewayError(f"Xendit answered something jasa cannot read: {exc.__class__.__name__}")

    def _invoice_payment(self, invoice: Mapping[str, Any]) -> GatewayPayment:
        status = INVOICE_STATUS.get(str(invoice.get("status")))
        if status is None:
            raise GatewayError(f"Xendit sent an unknown invoice status {invoice.get('status')!r}")
        amount = Money(int(invoice["amount"]), invoice.get("currency", "IDR"))
        refunded, failed = self._refunds("invoice_id", invoice["id"], amount) if status is Status.SUCCEEDED else (None, {})
        return GatewayPayment(
            gateway_reference=str(invoice["id"]),
            status=_after_refunds(status, amount, refunded),
            amount=amount,
            method=_BY_CHANNEL.get(str(invoice.get("payment_channel") or "")),
            next_action=NextAction(kind="redirect", url=invoice.get("invoice_url", ""),
                                   expires_at=str(invoice.get("expiry_date") or ""))
            if status is Status.REQUIRES_ACTION else None,
            captured=Money(int(invoice.get("paid_amount") or invoice["amount"]), amount.currency)
            if status is Status.SUCCEEDED else None,
            refunded=refunded,
            fee=Money(int(invoice["fees_paid_amount"]), amount.currency) if invoice.get("fees_paid_amount") else None,
            raw=dict(invoice),
            failed_refunds=failed,
            settled=invoice.get("status") == "SETTLED",  # PAID, then SETTLED once the money reached the balance
        )

    def _payment_request_payment(self, pr: Mapping[str, Any]) -> GatewayPayment:
        status = PAYMENT_REQUEST_STATUS.get(str(pr.get("status")))
        if status is None:
            raise GatewayError(f"Xendit sent an unknown payment request status {pr.get('status')!r}")
        amount = Money(int(pr["amount"]), pr.get("currency", "IDR"))
        pm = pr.get("payment_method") or {}
        detail = pm.get(str(pm.get("type", "")).lower()) or {}
        method = _BY_CHANNEL.get(str(detail.get("channel_code") or ""))
        refunded, failed = (self._refunds("payment_request_id", pr["id"], amount) if status is Status.SUCCEEDED
                            else (None, {}))
        saved = None
        if pm.get("reusability") == "MULTIPLE_USE" and pm.get("id") and method is not None:
            saved = SavedMethodToken(token=pm["id"], method=method, brand=str(detail.get("channel_code") or ""),
                                     masked=str((detail.get("account") or {}).get("account_details") or ""))
        return GatewayPayment(
            gateway_reference=str(pr["id"]),
            status=_after_refunds(status, amount, refunded),
            amount=amount,
            method=method,
            next_action=_next_action(pr, detail) if status is Status.REQUIRES_ACTION else None,
            captured=amount if status is Status.SUCCEEDED else None,
            refunded=refunded,
            failure_code=str(pr.get("failure_code") or "") if status is Status.FAILED else "",
            failure_message=str(pr.get("failure_code") or "").replace("_", " ").capitalize()
            if status is Status.FAILED else "",
            saved_method=saved,
            raw=dict(pr),
            failed_refunds=failed,
            authorized=pr.get("status") == "AWAITING_CAPTURE",  # a card authorised, held until captured
        )

    def _refunds(self, key: str, gateway_id: str, amount: Money) -> tuple[Money | None, dict[str, str]]:
        """The payment's refunds at Xendit: the total that succeeded (the client has it back), and those that
        failed or were cancelled by jasa's refund key (``reference_id``) -> Xendit's failure code."""
        rows = self._request("GET", "/refunds", query=[(key, gateway_id)]).get("data") or []
        outcome = [(r, REFUND_STATUS.get(str(r.get("status")), "pending")) for r in rows]
        total = sum(int(r["amount"]) for r, status in outcome if status == "succeeded")
        failed = {str(r["reference_id"]): str(r.get("failure_code") or r.get("status"))
                  for r, status in outcome if status == "failed" and r.get("reference_id")}
        return (Money(total, amount.currency) if total else None), failed


def _after_refunds(status: Status, amount: Money, refunded: Money | None) -> Status:
    if status is not Status.SUCCEEDED or not refunded:
        return status
    return Status.REFUNDED if refunded >= amount else Status.PARTIALLY_REFUNDED


def _check_currency(money: Money) -> None:
    if money.currency != "IDR":
        raise GatewayDeclined(gettext_noop("jasa charges Xendit in IDR only."), code="currency")


def _next_action(pr: Mapping[str, Any], detail: Mapping[str, Any]) -> NextAction:
    props = detail.get("channel_properties") or {}
    expires = str(props.get("expires_at") or "")
    if props.get("virtual_account_number"):
        return NextAction(kind="va_number", va_number=props["virtual_account_number"],
                          bank=str(detail.get("channel_code", "")).lower(), expires_at=expires)
    if props.get("qr_string"):
        return NextAction(kind="qr", qr_string=props["qr_string"], expires_at=expires)
    if props.get("payment_code"):
        return NextAction(kind="store_code", store_code=props["payment_code"], expires_at=expires)
    actions = pr.get("actions") or []
    for wanted in ("DEEPLINK", "MOBILE", "WEB"):
        for action in actions:
            if action.get("url_type") == wanted and action.get("url"):
                return NextAction(kind="deeplink" if wanted != "WEB" else "redirect", url=action["url"],
                                  expires_at=expires)
    return NextAction(kind="none", expires_at=expires)  # e.g. OVO: the client approves a push notification
