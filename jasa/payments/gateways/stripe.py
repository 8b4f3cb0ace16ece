"""Stripe adapter over the official ``stripe`` SDK (a ``StripeClient`` per adapter, no global state).

Checkout Session for the hosted page (optionally ``setup_future_usage=off_session`` to save the card),
PaymentIntent ``off_session=true, confirm=true`` for renewals with a saved payment method, Refunds,
the PaymentIntent (or Checkout Session) as the source of truth, and detaching a removed saved method.
Saving a card without a payment is a Checkout Session in ``mode=setup`` (a SetupIntent); its webhooks
(``checkout.session.completed``, ``setup_intent.succeeded`` / ``setup_intent.setup_failed``) carry jasa's
setup reference in the metadata like a payment's, and the core re-reads the session (``get_setup``).

Credentials: ``secret_key`` (required), ``webhook_secret`` (``whsec_...``, to verify ``Stripe-Signature``),
optional ``timeout`` (seconds, default 15) and ``api_base`` (another host: the local fake in tests).

Amounts: Stripe counts IDR in hundredths (a two-decimal currency in its API) while jasa's IDR minor
unit is the whole rupiah, so Rp 150.000 travels as ``amount=15000000``. ``to_stripe``/``from_stripe``
convert explicitly for every currency jasa knows.

A saved method's token is ``"<customer id>/<payment method id>"``: an off-session charge needs both.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import stripe as stripe_sdk
from django.utils.translation import gettext_noop

from jasa.core import clock
from jasa.core.money import Money, exponent
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
    hosted_codes,
    register,
    request_timeout,
)

TOLERANCE_SECONDS = 300  # Stripe's own default for signed webhooks
REFERENCE_KEY = "jasa_reference"  # metadata key carrying jasa's payment reference

# Currencies Stripe's API counts in whole units; every other currency jasa supports has two decimals there.
STRIPE_ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND"})

# PaymentIntent.status -> jasa status.
INTENT_STATUS: dict[str, Status] = {
    "requires_payment_method": Status.REQUIRES_ACTION,  # FAILED when a last_payment_error says why
    "requires_confirmation": Status.REQUIRES_ACTION,
    "requires_action": Status.REQUIRES_ACTION,
    "processing": Status.PROCESSING,
    "requires_capture": Status.PROCESSING,
    "canceled": Status.CANCELED,
    "succeeded": Status.SUCCEEDED,
}
# Checkout Session (status, payment_status) -> jasa status when there is no PaymentIntent to ask.
SESSION_STATUS: dict[tuple[str, str], Status] = {  # (status, payment_status)
    ("open", "unpaid"): Status.REQUIRES_ACTION,
    ("complete", "unpaid"): Status.PROCESSING,  # an asynchronous method is still settling
    ("complete", "paid"): Status.SUCCEEDED,
    ("complete", "no_payment_required"): Status.SUCCEEDED,
    ("expired", "unpaid"): Status.EXPIRED,
}
# Checkout Session payment_method_types for jasa's methods: cards only (see StripeGateway.methods).
CHECKOUT_TYPES: dict[Method, str] = {Method.CARD: "card"}
# A setup-mode Checkout Session's status -> the setup's, until it is complete; then its SetupIntent.status decides.
SETUP_SESSION_STATUS: dict[str, SetupStatus] = {
    "open": SetupStatus.PENDING,  # also after a declined card: the client may try another on the page
    "complete": SetupStatus.SUCCEEDED,
    "expired": SetupStatus.EXPIRED,
}
SETUP_INTENT_STATUS: dict[str, SetupStatus] = {
    "requires_payment_method": SetupStatus.PENDING,  # FAILED when a last_setup_error says why
    "requires_confirmation": SetupStatus.PENDING,
    "requires_action": SetupStatus.PENDING,
    "processing": SetupStatus.PENDING,
    "canceled": SetupStatus.CANCELED,
    "succeeded": SetupStatus.SUCCEEDED,
}
REFUND_STATUS = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending",
                 "failed": "failed", "canceled": "failed"}


def to_stripe(money: Money) -> int:
    """jasa minor units -> Stripe's API amount (IDR Rp 1 -> 100)."""
    stripe_exp = 0 if money.currency in STRIPE_ZERO_DECIMAL else 2
    shift = stripe_exp - exponent(money.currency)
    if shift < 0:
        raise GatewayDeclined(gettext_noop("This currency cannot be expressed in Stripe's units."), code="currency")
    return money.amount * 10**shift


def from_stripe(amount: int, currency: str) -> Money:
    """Stripe's API amount -> jasa minor units; refuses fractions jasa's unit cannot hold."""
    currency = currency.upper()
    stripe_exp = 0 if currency in STRIPE_ZERO_DECIMAL else 2
    factor = 10 ** (stripe_exp - exponent(currency))
    whole, rest = divmod(int(amount), factor)
    if rest:
        raise GatewayError(f"Stripe amount {amount} {currency} has a fraction of a {currency} minor unit")
    return Money(whole, currency)


@register
class StripeGateway:
    name: ClassVar[str] = "stripe"
    label: ClassVar[str] = "Stripe"
    # Stripe serves Indonesian businesses cards only; VA/QRIS/e-wallets go through Midtrans or Xendit.
    # What the gateway settings form asks for (optional: timeout and base-URL overrides).
    credential_fields: ClassVar[tuple[str, ...]] = ("secret_key", "webhook_secret")
    methods: ClassVar[dict[Method, Capabilities]] = {
        Method.CARD: Capabilities(refund=True, partial_refund=True, save_for_recurring=True, off_session=True),
    }

    def __init__(self, credentials: Mapping[str, str], *, sandbox: bool = True) -> None:
        self.sandbox = sandbox
        self.webhook_secret = credentials.get("webhook_secret", "")
        timeout = request_timeout(credentials)
        options: dict[str, Any] = {
            "http_client": stripe_sdk.RequestsClient(timeout=timeout),
            "max_network_retries": 0,  # the core retries with the same idempotency key
        }
        if credentials.get("api_base"):
            options["base_addresses"] = {"api": credentials["api_base"].rstrip("/")}
        self._client = stripe_sdk.StripeClient(credentials.get("secret_key", ""), **options)
        self._v1 = self._client.v1

    # --- creating payments ---------------------------------------------------------
    def create_checkout(self, request: PaymentRequest) -> GatewayPayment:
        types = hosted_codes(request, CHECKOUT_TYPES, self.label) or list(CHECKOUT_TYPES.values())
        if not request.return_url:
            raise GatewayDeclined("Stripe Checkout needs a return URL", code="return_url")
        metadata = {**request.metadata, REFERENCE_KEY: request.reference}
        intent_data: dict[str, Any] = {"metadata": metadata, "description": request.description}
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": request.reference,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": request.amount.currency.lower(),
                "unit_amount": to_stripe(request.amount),
                "product_data": {"name": request.description or request.reference},
            }}],
            "payment_method_types": types,
            "success_url": request.return_url,
            "cancel_url": request.return_url,
            "metadata": metadata,
            "payment_intent_data": intent_data,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        if request.save_method:
            intent_data["setup_future_usage"] = "off_session"
            params["customer_creation"] = "always"  # a saved card belongs to a Customer
        if request.expires_in_seconds:
            # Stripe accepts 30 minutes to 24 hours.
            seconds = min(max(request.expires_in_seconds, 1800), 86400)
            params["expires_at"] = int((clock.now() + timedelta(seconds=seconds)).timestamp())
        session = self._call(self._v1.checkout.sessions.create, params,
                             {"idempotency_key": f"checkout-{request.reference}"})
        return GatewayPayment(
            gateway_reference=session["id"],
            status=Status.REQUIRES_ACTION,
            amount=request.amount,
            method=Method.CARD,
            next_action=NextAction(kind="redirect", url=session["url"] or "",
                                   expires_at=_iso(session.get("expires_at"))),
            raw=session,
        )

    def create_direct(self, request: PaymentRequest) -> GatewayPayment:
        # Card details are collected on Stripe's page only (SAQ A): there is no direct method.
        raise GatewayDeclined(gettext_noop("Stripe has no direct payment for this method; use the hosted page."),
                              code="unsupported_method")

    def charge_saved(self, request: PaymentRequest, token: str) -> GatewayPayment:
        customer, _, payment_method = token.partition("/")
        if not customer or not payment_method:
            raise GatewayDeclined("A Stripe saved method is '<customer>/<payment method>'", code="token")
        params = {
            "amount": to_stripe(request.amount),
            "currency": request.amount.currency.lower(),
            "customer": customer,
            "payment_method": payment_method,
            "off_session": True,
            "confirm": True,
            "description": request.description,
            "metadata": {**request.metadata, REFERENCE_KEY: request.reference},
        }
        try:
            intent = self._call(self._v1.payment_intents.create, params,
                                {"idempotency_key": f"charge-{request.reference}"}, raise_card_errors=True)
        except stripe_sdk.CardError as exc:
            error = exc.error
            code = (error.decline_code if error else None) or exc.code or "card_declined"
            intent = _plain(error.payment_intent) if error and error.payment_intent else None
            if exc.code == "authentication_required" and intent is not None:
                # The bank wants the client present (SCA): the core asks them to confirm on-session.
                payment = self._payment(intent)
                return _replace(payment, status=Status.REQUIRES_ACTION, failure_code="authentication_required",
                                failure_message=exc.user_message or "")
            raise GatewayDeclined(exc.user_message or gettext_noop("The card was declined"), code=code)
        return self._payment(intent)

    def forget_saved_method(self, token: str) -> None:
        """Detach the PaymentMethod from its Customer: Stripe then refuses every payment with it, for good.
        One Stripe no longer knows (404) is already gone."""
        _, _, payment_method = token.partition("/")
        if not payment_method:
            raise GatewayDeclined("A Stripe saved method is '<customer>/<payment method>'", code="token")
        try:
            self._call(self._v1.payment_methods.detach, payment_method)
        except PaymentNotFound:
            return

    # --- saving a card without a payment (gateways.base.SavesWithoutPayment) ---------
    def start_setup(self, request: SetupRequest) -> GatewaySetup:
        """A Checkout Session in ``mode=setup``: Stripe's page collects the card into a SetupIntent, which
        attaches the PaymentMethod to a Customer for later off-session charges. The client's Customer from an
        earlier saved card is reused, else Checkout creates one (``customer_creation=always``)."""
        if not request.return_url:
            raise GatewayDeclined("Stripe Checkout needs a return URL", code="return_url")
        metadata = {**request.metadata, REFERENCE_KEY: request.reference}
        params: dict[str, Any] = {
            "mode": "setup",
            "currency": request.currency.lower(),
            "payment_method_types": ["card"],
            "client_reference_id": request.reference,
            "success_url": request.return_url,
            "cancel_url": request.return_url,
            "metadata": metadata,
            "setup_intent_data": {"metadata": metadata, "description": request.description},
        }
        customer = next((t.partition("/")[0] for t in request.saved_tokens if t.startswith("cus_")), "")
        if customer:
            params["customer"] = customer  # Stripe takes either a customer or customer_creation/customer_email
        else:
            params["customer_creation"] = "always"
            if request.customer_email:
                params["customer_email"] = request.customer_email
        if request.expires_in_seconds:
            params["expires_at"] = _session_expires_at(request.expires_in_seconds)
        session = self._call(self._v1.checkout.sessions.create, params,
                             {"idempotency_key": f"setup-{request.reference}"})
        return self._setup(session)

    def get_setup(self, reference: str, *, gateway_reference: str = "") -> GatewaySetup:
        """By the Checkout Session id the core stored: Stripe cannot search sessions or SetupIntents by
        metadata, so a setup whose first answer was lost is not found (the core then gives it up)."""
        if not gateway_reference.startswith("cs_"):
            raise PaymentNotFound(f"Stripe has no setup session for {reference}", code="not_found")
        session = self._call(self._v1.checkout.sessions.retrieve, gateway_reference,
                             {"expand": ["setup_intent", "setup_intent.payment_method"]})
        if session.get("mode") != "setup":
            raise GatewayDeclined(f"{gateway_reference} is not a setup session", code="not_setup")
        return self._setup(session)

    def cancel_setup(self, reference: str, *, gateway_reference: str = "") -> GatewaySetup:
        current = self.get_setup(reference, gateway_reference=gateway_reference)
        if current.status is not SetupStatus.PENDING or current.raw.get("status") != "open":
            return current
        self._call(self._v1.checkout.sessions.expire, gateway_reference)
        return self.get_setup(reference, gateway_reference=gateway_reference)

    @staticmethod
    def _setup(session: Any) -> GatewaySetup:
        """A setup session mapped to jasa's words: open (the client may try another card after a decline)
        and expired from the session; once complete, the SetupIntent decides."""
        intent = session.get("setup_intent")
        intent = intent if isinstance(intent, dict) else {}
        error = intent.get("last_setup_error") or {}
        status = SETUP_SESSION_STATUS.get(session["status"])
        if status is None:
            raise GatewayError(f"Stripe sent an unknown Checkout Session status {session['status']!r}")
        if session["status"] == "complete":
            if intent.get("status") not in SETUP_INTENT_STATUS:
                raise GatewayError(f"Stripe sent an unknown SetupIntent status {intent.get('status')!r}")
            status = SETUP_INTENT_STATUS[intent["status"]]
            if intent["status"] == "requires_payment_method" and error:
                status = SetupStatus.FAILED
        saved = None
        if status is SetupStatus.SUCCEEDED:
            saved = _card_token(intent.get("customer") or session.get("customer"), intent.get("payment_method"))
            if saved is None:
                raise GatewayError(f"Stripe setup {session['id']} succeeded without a customer's payment method")
        return GatewaySetup(
            gateway_reference=session["id"], status=status, saved_method=saved,
            redirect_url=(session.get("url") or "") if status is SetupStatus.PENDING else "",
            failure_code=str(error.get("decline_code") or error.get("code") or ""),
            failure_message=str(error.get("message") or ""), raw=session,
        )

    # --- reading and changing payments ----------------------------------------------
    def get_status(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        """By the Stripe id the core stored (cs_... or pi_...); without one, by searching the metadata
        (Stripe's search is eventually consistent, so the id is the reliable way)."""
        if gateway_reference.startswith("cs_"):
            session = self._call(self._v1.checkout.sessions.retrieve, gateway_reference,
                                 {"expand": ["payment_intent", "payment_intent.latest_charge"]})
            return self._session_payment(session)
        if gateway_reference.startswith("pi_"):
            return self._payment(self._retrieve_intent(gateway_reference))
        found = self._call(self._v1.payment_intents.search,
                           {"query": f"metadata['{REFERENCE_KEY}']:'{reference}'", "limit": 1})
        if not found["data"]:
            raise PaymentNotFound(f"Stripe has no payment for {reference}", code="not_found")
        return self._payment(self._retrieve_intent(found["data"][0]["id"]))

    def cancel(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        current = self.get_status(reference, gateway_reference=gateway_reference)
        if current.status not in (Status.REQUIRES_ACTION, Status.PROCESSING, Status.CREATED):
            return current
        if gateway_reference.startswith("cs_") and current.gateway_reference == gateway_reference:
            self._call(self._v1.checkout.sessions.expire, gateway_reference)
        else:
            self._call(self._v1.payment_intents.cancel, current.gateway_reference)
        return self.get_status(reference, gateway_reference=gateway_reference)

    def refund(self, reference: str, amount: Money, *, refund_key: str, reason: str,
               gateway_reference: str = "") -> RefundResult:
        intent_id = self.get_status(reference, gateway_reference=gateway_reference).gateway_reference
        if not intent_id.startswith("pi_"):
            raise GatewayDeclined(gettext_noop("Nothing was paid on this Checkout Session yet"), code="not_paid")
        params = {
            "payment_intent": intent_id,
            "amount": to_stripe(amount),
            "reason": "requested_by_customer",
            "metadata": {REFERENCE_KEY: reference, "refund_key": refund_key, "reason": reason[:500]},
        }
        refund = self._call(self._v1.refunds.create, params, {"idempotency_key": f"refund-{refund_key}"})
        return RefundResult(
            gateway_reference=refund["id"],
            status=REFUND_STATUS.get(refund["status"], "pending"),
            amount=from_stripe(refund["amount"], refund["currency"]),
            failure_message=str(refund.get("failure_reason") or ""),
            raw=refund,
        )

    # --- webhooks ---------------------------------------------------------------------
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        header = {k.lower(): v for k, v in headers.items()}.get("stripe-signature", "")
        verify_signature(body, header, self.webhook_secret, now=int(clock.now().timestamp()))
        try:
            event = json.loads(body)
            obj = event["data"]["object"]
            event_id, kind = str(event["id"]), str(event["type"])
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("signed, but not a Stripe event")
        # signed JSON can still hold a list or a string where Stripe puts an object
        metadata = (obj.get("metadata") or {}) if isinstance(obj, dict) else None
        if not isinstance(metadata, dict):
            raise WebhookRejected("signed, but data.object or its metadata is not an object")
        reference = metadata.get(REFERENCE_KEY) or obj.get("client_reference_id") or ""
        return WebhookEvent(event_id=event_id, reference=str(reference), kind=kind,
                            claimed_status=str(obj.get("status") or ""), payload=event)

    def test_connection(self) -> str:
        balance = self._call(self._v1.balance.retrieve)
        mode = "live" if balance.get("livemode") else "test"
        return f"Stripe ({mode} mode): secret key accepted"

    # --- internals --------------------------------------------------------------------
    def _retrieve_intent(self, intent_id: str) -> Any:
        return self._call(self._v1.payment_intents.retrieve, intent_id,
                          {"expand": ["latest_charge", "payment_method"]})

    def _refunds(self, intent_id: str, currency: str) -> tuple[Money | None, dict[str, str]]:
        """The intent's refunds (up to 100, plenty for one payment): the total that *succeeded*, and those that
        failed or were canceled by jasa's refund key -> Stripe's ``failure_reason``. Not the charge's
        ``amount_refunded``: it counts a refund from its creation (Stripe debits the balance then and credits
        it back if the refund fails), and the core must not finish a refund that may still fail."""
        rows = self._call(self._v1.refunds.list, {"payment_intent": intent_id, "limit": 100}).get("data") or []
        outcome = [(r, REFUND_STATUS.get(str(r.get("status")), "pending")) for r in rows]
        total = sum(int(r["amount"]) for r, status in outcome if status == "succeeded")
        failed = {str(r["metadata"]["refund_key"]): str(r.get("failure_reason") or r.get("status"))
                  for r, status in outcome if status == "failed" and (r.get("metadata") or {}).get("refund_key")}
        return (from_stripe(total, currency) if total else None), failed

    @staticmethod
    def _call(fn, *args, raise_card_errors: bool = False):  # type: ignore[no-untyped-def]
        try:
            # Plain dicts from here on: StripeObject is not a dict in recent SDKs.
            return _plain(fn(*args))
        except stripe_sdk.CardError as exc:
            if raise_card_errors:
                raise
            raise GatewayDeclined(exc.user_message or gettext_noop("The card was declined"),
                                  code=exc.code or "card_declined")
        except (stripe_sdk.APIConnectionError, stripe_sdk.RateLimitError) as exc:
            raise GatewayError(f"Stripe could not be reached: {exc.user_message or exc.__class__.__name__}")
        except stripe_sdk.StripeError as exc:
            if exc.http_status is None or exc.http_status >= 500 or exc.http_status == 409:
                raise GatewayError(f"Stripe is unavailable ({exc.http_status}): {exc.user_message}")
            if exc.http_status == 404:
                raise PaymentNotFound(exc.user_message or gettext_noop("Stripe has no such object"), code="not_found")
            raise GatewayDeclined(exc.user_message or gettext_noop("Stripe refused the request"),
                                  code=str(exc.code or exc.http_status))

    def _session_payment(self, session: Any) -> GatewayPayment:
        intent = session.get("payment_intent")
        # Only a completed session is decided by its PaymentIntent: while it is open the client may retry
        # after a decline, and once it expired nothing more can happen on it.
        if session["status"] == "complete" and intent and not isinstance(intent, str):
            return self._payment(intent)
        status = SESSION_STATUS.get((session["status"], session["payment_status"]), Status.PROCESSING)
        amount = from_stripe(session["amount_total"], session["currency"])
        return GatewayPayment(
            gateway_reference=session["id"], status=status, amount=amount, method=Method.CARD,
            next_action=NextAction(kind="redirect", url=session.get("url") or "") if status is Status.REQUIRES_ACTION
            else None,
            raw=session,
        )

    def _payment(self, intent: Any) -> GatewayPayment:
        status = INTENT_STATUS.get(intent["status"])
        if status is None:
            raise GatewayError(f"Stripe sent an unknown PaymentIntent status {intent['status']!r}")
        error = intent.get("last_payment_error")
        if intent["status"] == "requires_payment_method" and error:
            status = Status.FAILED
        amount = from_stripe(intent["amount"], intent["currency"])
        charge = intent.get("latest_charge")
        refunded, failed = self._refunds(intent["id"], intent["currency"]) if status is Status.SUCCEEDED else (None, {})
        if charge and not isinstance(charge, str):
            if status is Status.SUCCEEDED and charge.get("disputed"):
                status = Status.DISPUTED
            elif status is Status.SUCCEEDED and refunded:
                status = Status.REFUNDED if refunded >= amount else Status.PARTIALLY_REFUNDED
        next_action = None
        if status is Status.REQUIRES_ACTION:
            redirect = ((intent.get("next_action") or {}).get("redirect_to_url") or {}).get("url", "")
            next_action = NextAction(kind="redirect" if redirect else "none", url=redirect)
        return GatewayPayment(
            gateway_reference=intent["id"],
            status=status,
            amount=amount,
            method=Method.CARD,
            next_action=next_action,
            captured=from_stripe(intent.get("amount_received") or 0, intent["currency"])
            if intent.get("amount_received") else None,
            refunded=refunded,
            failure_code=str((error or {}).get("decline_code") or (error or {}).get("code") or "") if error else "",
            failure_message=str((error or {}).get("message") or "") if error else "",
            saved_method=_saved_method(intent),
            raw=intent,
            failed_refunds=failed,
            # capture_method=manual: the card is authorised and held until captured. When the funds become
            # available (settled) is in the charge's balance transaction, which jasa does not read.
            authorized=intent["status"] == "requires_capture",
        )


def verify_signature(payload: bytes, header: str, secret: str, *, now: int, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Stripe-Signature: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">`` (several v1 while rolling secrets)."""
    if not secret:
        raise WebhookRejected("no webhook secret configured for Stripe")
    try:
        pairs = [item.split("=", 1) for item in header.split(",") if item.strip()]
        timestamp = int(next(v for k, v in pairs if k.strip() == "t"))
    except (ValueError, StopIteration):
        raise WebhookRejected("malformed Stripe-Signature header")
    signatures = [v.strip() for k, v in pairs if k.strip() == "v1"]
    if not signatures:
        raise WebhookRejected("no v1 signature in Stripe-Signature")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, sig) for sig in signatures):
        raise WebhookRejected("Stripe signature does not match")
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected("Stripe signature timestamp is outside the 5-minute tolerance")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """A Stripe-Signature header value (for the sandbox, tests and the webhook benchmark)."""
    sig = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={sig}"


def _saved_method(intent: Any) -> SavedMethodToken | None:
    if not intent.get("setup_future_usage"):
        return None
    return _card_token(intent.get("customer"), intent.get("payment_method"))


def _card_token(customer: Any, pm: Any) -> SavedMethodToken | None:
    """The token of a card attached to a customer (ids or expanded objects), with what a receipt may show."""
    if not customer or not pm:
        return None
    customer = customer if isinstance(customer, str) else customer["id"]
    if isinstance(pm, str):
        return SavedMethodToken(token=f"{customer}/{pm}", method=Method.CARD)
    card = pm.get("card") or {}
    return SavedMethodToken(token=f"{customer}/{pm['id']}", method=Method.CARD, brand=str(card.get("brand") or ""),
                            masked=f"**** **** **** {card.get('last4', '')}" if card.get("last4") else "",
                            expiry_month=card.get("exp_month"), expiry_year=card.get("exp_year"))


def _session_expires_at(seconds: int) -> int:
    """A Checkout Session's ``expires_at``: Stripe accepts 30 minutes to 24 hours from now."""
    return int((clock.now() + timedelta(seconds=min(max(seconds, 1800), 86400))).timestamp())


def _plain(obj: Any) -> Any:
    return obj.to_dict() if isinstance(obj, stripe_sdk.StripeObject) else obj


def _replace(payment: GatewayPayment, **changes: Any) -> GatewayPayment:
    return dataclasses.replace(payment, **changes)


def _iso(timestamp: Any) -> str:
    if not timestamp:
        return ""
    return datetime.fromtimestamp(int(timestamp), UTC).isoformat()
