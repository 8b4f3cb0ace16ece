"""A local Stripe: /v1/checkout/sessions (``mode=payment`` and ``mode=setup`` with its SetupIntent),
/v1/setup_intents/{id}, /v1/payment_intents (create, retrieve, search, cancel), /v1/refunds,
/v1/payment_methods/{id}/detach, /v1/balance, with form-encoded requests, ``expand[]`` and ``Idempotency-Key`` replay like Stripe's API.

Objects follow Stripe's API reference (docs.stripe.com/api): ``checkout.session``, ``payment_intent`` with
``latest_charge``, ``charge`` with ``amount_refunded``/``disputed``, ``refund``, ``payment_method`` (``customer``
null once detached: a detached method cannot be charged again), and errors as
``{"error": {"type", "code", "decline_code", "message", "payment_intent"}}``. Stripe's test payment
methods steer off-session charges: ``pm_card_visa`` succeeds, ``pm_card_chargeDeclinedInsufficientFunds``
and ``pm_card_chargeDeclinedExpiredCard`` decline, ``pm_card_authenticationRequired`` needs the client.

Refunds are created with the status in ``refund_outcome`` (``succeeded`` unless a test sets ``pending``,
``requires_action``, ``failed`` or ``canceled``) and listed by ``GET /v1/refunds?payment_intent=``; a test
finishes one with ``settle_refund``. The charge's ``amount_refunded`` counts a refund from its creation (Stripe
debits the balance then; a failed refund's ``failure_balance_transaction`` gives it back), so it is no proof
that the money reached the client: only a ``succeeded`` refund is.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
from typing import Any

from .server import FakeGateway, Recorded, Reply

_ids = itertools.count(1)
NOW = 1_796_000_000

DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
}


# Stripe's test PaymentMethods: brand and last 4 digits of the card behind each.
TEST_CARDS = {"pm_card_visa": ("visa", "4242"), "pm_card_mastercard": ("mastercard", "4444"),
              "pm_card_amex": ("amex", "8431")}


def _id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}"


def flat(req: Recorded) -> dict[str, str]:
    source = req.form() if req.method == "POST" else req.query
    return {k: v[-1] for k, v in source.items()}


def nested(form: dict[str, str], prefix: str) -> dict[str, str]:
    """``metadata[a]=1`` -> ``{"a": "1"}`` for the given prefix."""
    out = {}
    for key, value in form.items():
        m = re.fullmatch(re.escape(prefix) + r"\[([^\]]+)\]", key)
        if m:
            out[m.group(1)] = value
    return out


def expands(form: dict[str, str]) -> set[str]:
    return {v for k, v in form.items() if k.startswith("expand[")}


class FakeStripe(FakeGateway):
    def __init__(self, secret_key: str, webhook_secret: str) -> None:
        super().__init__()
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.attached: dict[str, str | None] = {}  # payment method -> its customer (None: detached)
        self.refund_outcome = "succeeded"  # the status new refunds get
        self.route("POST", r"/v1/checkout/sessions", self.idempotent(self.create_session))
        self.route("GET", r"/v1/checkout/sessions/(?P<sid>cs_[^/]+)", self.get_session)
        self.route("POST", r"/v1/checkout/sessions/(?P<sid>cs_[^/]+)/expire", self.expire_session)
        self.route("POST", r"/v1/payment_intents", self.idempotent(self.create_intent))
        self.route("GET", r"/v1/payment_intents/search", self.search_intents)
        self.route("GET", r"/v1/payment_intents/(?P<pid>pi_[^/]+)", self.get_intent)
        self.route("POST", r"/v1/payment_intents/(?P<pid>pi_[^/]+)/cancel", self.cancel_intent)
        self.route("POST", r"/v1/refunds", self.idempotent(self.create_refund))
        self.route("GET", r"/v1/refunds", self.list_refunds)
        self.route("POST", r"/v1/payment_methods/(?P<pmid>pm_[^/]+)/detach", self.detach_method)
        self.route("GET", r"/v1/balance", lambda req: Reply(200, {"object": "balance", "livemode": False,
                                                                  "available": [{"amount": 0, "currency": "idr"}]}))
        # saving a card without a payment: Checkout in mode=setup (create_session) and its SetupIntent
        self.setup_intents: dict[str, dict[str, Any]] = {}
        self.route("GET", r"/v1/setup_intents/(?P<seti>seti_[^/]+)", self.get_setup_intent)

    # --- test helpers -----------------------------------------------------------------
    def pay_session(self, sid: str, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        """The client pays on the hosted page: a succeeded PaymentIntent with its charge."""
        session = self.sessions[sid]
        save = session["_setup_future_usage"]
        intent = self._intent(session["amount_total"], session["currency"], payment_method,
                              customer=_id("cus") if save else None, setup_future_usage=save,
                              metadata=session["_intent_metadata"], status="succeeded")
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"], customer=intent["customer"])
        if save:
            self.attached[payment_method] = intent["customer"]
        return intent

    def attach(self, payment_method: str, customer: str) -> None:
        """A payment method saved to a customer (as ``setup_future_usage`` on a paid session does)."""
        self.attached[payment_method] = customer

    def attach_intent(self, sid: str, status: str, **fields: Any) -> dict[str, Any]:
        """A PaymentIntent on a session that is not complete (a declined attempt, or an older API version
        that creates the intent with the session)."""
        session = self.sessions[sid]
        intent = self._intent(session["amount_total"], session["currency"], "pm_card_chargeDeclined", customer=None,
                              setup_future_usage=None, metadata=session["_intent_metadata"], status=status)
        intent.update(fields)
        session["payment_intent"] = intent["id"]
        return intent

    def set_session(self, sid: str, **fields: Any) -> None:
        self.sessions[sid].update(fields)

    def set_intent(self, pid: str, **fields: Any) -> None:
        self.intents[pid].update(fields)

    def set_charge(self, pid: str, **fields: Any) -> None:
        self.charges[self.intents[pid]["latest_charge"]].update(fields)

    def settle_refund(self, rid: str, status: str, failure_reason: str = "unknown") -> dict[str, Any]:
        """A pending refund finishes: ``succeeded``, or ``failed``/``canceled`` (its amount returns to the charge)."""
        refund = self.refunds[rid]
        if status in ("failed", "canceled") and refund["status"] not in ("failed", "canceled"):
            self.charges[refund["charge"]]["amount_refunded"] -= refund["amount"]
            self.charges[refund["charge"]]["refunded"] = False
        refund["status"] = status
        if status == "failed":
            refund["failure_reason"] = failure_reason
        return refund

    def event(self, kind: str, obj: dict[str, Any]) -> bytes:
        return json.dumps({"id": _id("evt"), "object": "event", "type": kind, "api_version": "2024-06-20",
                           "created": NOW, "livemode": False, "data": {"object": obj}}).encode()

    def signature(self, payload: bytes, timestamp: int, secret: str | None = None) -> str:
        key = (secret or self.webhook_secret).encode()
        return f"t={timestamp},v1={hmac.new(key, f'{timestamp}.'.encode() + payload, hashlib.sha256).hexdigest()}"

    # --- plumbing -----------------------------------------------------------------------
    def _intent(self, amount: int, currency: str, payment_method: str | None, *, customer: str | None,
                setup_future_usage: str | None, metadata: dict[str, str], status: str) -> dict[str, Any]:
        pid = _id("pi")
        charge = {"id": _id("ch"), "object": "charge", "amount": amount, "amount_refunded": 0, "currency": currency,
                  "refunded": False, "disputed": False, "paid": status == "succeeded", "payment_intent": pid,
                  "status": "succeeded" if status == "succeeded" else "failed"}
        self.charges[charge["id"]] = charge
        intent = {"id": pid, "object": "payment_intent", "amount": amount, "currency": currency, "status": status,
                  "amount_received": amount if status == "succeeded" else 0, "customer": customer,
                  "payment_method": payment_method, "setup_future_usage": setup_future_usage, "metadata": metadata,
                  "latest_charge": charge["id"], "last_payment_error": None, "next_action": None,
                  "livemode": False, "created": NOW}
        self.intents[pid] = intent
        return intent

    def _expanded_intent(self, pid: str, wanted: set[str], prefix: str = "") -> dict[str, Any]:
        intent = dict(self.intents[pid])
        if f"{prefix}latest_charge" in wanted and intent["latest_charge"]:
            intent["latest_charge"] = self.charges[intent["latest_charge"]]
        if f"{prefix}payment_method" in wanted and intent["payment_method"]:
            intent["payment_method"] = {"id": intent["payment_method"], "object": "payment_method", "type": "card",
                                        "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}}
        return intent

    @staticmethod
    def _error(status: int, type_: str, message: str, code: str = "", **extra: Any) -> Reply:
        return Reply(status, {"error": {"type": type_, "message": message, "code": code, **extra}},
                     headers={"Request-Id": "req_fake"})

    # --- routes -------------------------------------------------------------------------
    def create_session(self, req: Recorded) -> Reply:
        form = flat(req)
        if form.get("mode") == "setup":
            return self.create_setup_session(form)
        if form.get("mode") != "payment" or "success_url" not in form:
            return self._error(400, "invalid_request_error", "Missing required param: success_url.", "parameter_missing")
        sid = _id("cs")
        session = {
            "id": sid, "object": "checkout.session", "mode": "payment", "status": "open", "payment_status": "unpaid",
            "url": f"https://checkout.stripe.com/c/pay/{sid}",
            "amount_total": int(form["line_items[0][price_data][unit_amount]"]) * int(form["line_items[0][quantity]"]),
            "currency": form["line_items[0][price_data][currency]"], "client_reference_id": form.get("client_reference_id"),
            "customer": None, "customer_email": form.get("customer_email"), "metadata": nested(form, "metadata"),
            "payment_intent": None, "expires_at": int(form.get("expires_at", NOW + 86400)), "livemode": False,
            "_setup_future_usage": form.get("payment_intent_data[setup_future_usage]"),
            "_intent_metadata": nested(form, "payment_intent_data[metadata]"),
        }
        self.sessions[sid] = session
        return Reply(200, self._public(session))

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def get_session(self, req: Recorded, sid: str) -> Reply:
        if sid not in self.sessions:
            return self._error(404, "invalid_request_error", f"No such checkout.session: '{sid}'", "resource_missing")
        session = self._public(self.sessions[sid])
        wanted = expands(flat(req))
        if "payment_intent" in wanted and session["payment_intent"]:
            session["payment_intent"] = self._expanded_intent(session["payment_intent"], wanted, "payment_intent.")
        if "setup_intent" in wanted and session.get("setup_intent"):
            session["setup_intent"] = self._expanded_setup_intent(session["setup_intent"], wanted, "setup_intent.")
        return Reply(200, session)

    def expire_session(self, req: Recorded, sid: str) -> Reply:
        session = self.sessions[sid]
        if session["status"] != "open":
            return self._error(400, "invalid_request_error", "Only Checkout Sessions with a status of `open` can be expired.")
        session["status"] = "expired"
        return Reply(200, self._public(session))

    def create_intent(self, req: Recorded) -> Reply:
        form = flat(req)
        pm = form.get("payment_method", "")
        if form.get("customer") and pm in self.attached and self.attached[pm] != form["customer"]:
            return self._error(400, "invalid_request_error", f"The customer does not have a payment method with the "
                               f"ID {pm}. The payment method must be attached to the customer.")
        intent = self._intent(int(form["amount"]), form["currency"], pm, customer=form.get("customer"),
                              setup_future_usage=None, metadata=nested(form, "metadata"), status="succeeded")
        if pm in DECLINES or pm == "pm_card_authenticationRequired":
            code, decline, message = DECLINES.get(pm, ("authentication_required", "authentication_required",
                                                        "Your card was declined. This transaction requires authentication."))
            error = {"code": code, "decline_code": decline, "message": message, "type": "card_error"}
            intent.update(status="requires_payment_method", amount_received=0, last_payment_error=error)
            self.charges[intent["latest_charge"]].update(status="failed", paid=False)
            return self._error(402, "card_error", message, code, decline_code=decline, payment_intent=intent,
                               charge=intent["latest_charge"])
        return Reply(200, self._expanded_intent(intent["id"], expands(form)))

    def get_intent(self, req: Recorded, pid: str) -> Reply:
        if pid not in self.intents:
            return self._error(404, "invalid_request_error", f"No such payment_intent: '{pid}'", "resource_missing")
        return Reply(200, self._expanded_intent(pid, expands(flat(req))))

    def search_intents(self, req: Recorded) -> Reply:
        m = re.fullmatch(r"metadata\['(\w+)'\]:'([^']*)'", flat(req).get("query", ""))
        if not m:
            return self._error(400, "invalid_request_error", "Invalid search query")
        found = [i for i in self.intents.values() if i["metadata"].get(m.group(1)) == m.group(2)]
        return Reply(200, {"object": "search_result", "data": found, "has_more": False, "next_page": None,
                           "url": "/v1/payment_intents/search"})

    def cancel_intent(self, req: Recorded, pid: str) -> Reply:
        intent = self.intents[pid]
        if intent["status"] in ("succeeded", "canceled"):
            return self._error(400, "invalid_request_error", "You cannot cancel this PaymentIntent because it has a "
                               f"status of {intent['status']}.", "payment_intent_unexpected_state")
        intent["status"] = "canceled"
        return Reply(200, intent)

    def create_refund(self, req: Recorded) -> Reply:
        form = flat(req)
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return self._error(400, "invalid_request_error", "This PaymentIntent does not have a successful charge to refund.",
                               "charge_not_refundable")
        charge = self.charges[intent["latest_charge"]]
        amount = int(form.get("amount") or charge["amount"] - charge["amount_refunded"])
        if charge["amount_refunded"] + amount > charge["amount"]:
            code = "charge_already_refunded" if charge["refunded"] else "amount_too_large"
            return self._error(400, "invalid_request_error",
                               f"Refund amount ({amount}) is greater than unrefunded amount on charge.", code)
        status = self.refund_outcome
        if status not in ("failed", "canceled"):
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        refund = {"id": _id("re"), "object": "refund", "amount": amount, "currency": charge["currency"],
                  "charge": charge["id"], "payment_intent": intent["id"], "status": status,
                  "failure_reason": "unknown" if status == "failed" else None,
                  "reason": form.get("reason"), "metadata": nested(form, "metadata"), "created": NOW}
        self.refunds[refund["id"]] = refund
        return Reply(200, refund)

    def list_refunds(self, req: Recorded) -> Reply:
        wanted = flat(req).get("payment_intent")
        data = [r for r in reversed(self.refunds.values()) if not wanted or r["payment_intent"] == wanted]
        return Reply(200, {"object": "list", "data": data, "has_more": False, "url": "/v1/refunds"})


    def detach_method(self, req: Recorded, pmid: str) -> Reply:
        if pmid not in self.attached:
            return self._error(404, "invalid_request_error", f"No such PaymentMethod: '{pmid}'", "resource_missing")
        if self.attached[pmid] is None:
            return self._error(400, "invalid_request_error",
                               "The payment method you provided is not attached to a customer so detachment is impossible.")
        self.attached[pmid] = None
        return Reply(200, {"id": pmid, "object": "payment_method", "type": "card", "customer": None,
                           "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
                           "created": NOW, "livemode": False, "metadata": {}})

    # --- saving a card without a payment: Checkout Session mode=setup, SetupIntent, PaymentMethod ----------
    # docs.stripe.com/payments/save-and-reuse (Checkout in setup mode) and /api/setup_intents/object: the
    # session creates its SetupIntent (``setup_intent``) with the session; on the hosted page the client's
    # card confirms it (``succeeded``, the PaymentMethod attached to the session's Customer), or an attempt
    # fails (``requires_payment_method`` with ``last_setup_error``) and the session stays open for another.
    def create_setup_session(self, form: dict[str, str]) -> Reply:
        for given, other in (("customer", "customer_creation"), ("customer", "customer_email")):
            if form.get(given) and form.get(other):
                return self._error(400, "invalid_request_error",
                                   f"You may only specify one of these parameters: {given}, {other}.")
        if "success_url" not in form:
            return self._error(400, "invalid_request_error", "Missing required param: success_url.", "parameter_missing")
        if any(k.startswith("line_items[") for k in form):
            return self._error(400, "invalid_request_error", "You can not pass `line_items` in `setup` mode.")
        if not form.get("currency") and not any(k.startswith("payment_method_types[") for k in form):
            return self._error(400, "invalid_request_error", "Missing required param: currency.", "parameter_missing")
        if form.get("customer") and form["customer"] not in set(self.attached.values()):
            return self._error(400, "invalid_request_error", f"No such customer: '{form['customer']}'",
                               "resource_missing")
        sid, seti = _id("cs"), _id("seti")
        self.setup_intents[seti] = {
            "id": seti, "object": "setup_intent", "status": "requires_payment_method", "usage": "off_session",
            "customer": form.get("customer"), "payment_method": None, "last_setup_error": None, "next_action": None,
            "metadata": nested(form, "setup_intent_data[metadata]"), "payment_method_types": ["card"],
            "description": form.get("setup_intent_data[description]"), "livemode": False, "created": NOW,
        }
        session = {
            "id": sid, "object": "checkout.session", "mode": "setup", "status": "open",
            "payment_status": "no_payment_required", "url": f"https://checkout.stripe.com/c/pay/{sid}",
            "amount_total": None, "currency": form.get("currency"), "client_reference_id": form.get("client_reference_id"),
            "customer": form.get("customer"), "customer_creation": form.get("customer_creation"),
            "customer_email": form.get("customer_email"), "metadata": nested(form, "metadata"), "payment_intent": None,
            "setup_intent": seti, "success_url": form["success_url"], "cancel_url": form.get("cancel_url"),
            "expires_at": int(form.get("expires_at", NOW + 86400)), "livemode": False,
        }
        self.sessions[sid] = session
        return Reply(200, self._public(session))

    def complete_setup(self, sid: str, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        """The client saves a card on the hosted setup page: the SetupIntent succeeds and the PaymentMethod is
        attached to the session's Customer (created now when the session was to create one)."""
        session = self.sessions[sid]
        customer = session["customer"] or _id("cus")
        intent = self.setup_intents[session["setup_intent"]]
        intent.update(status="succeeded", customer=customer, payment_method=payment_method, last_setup_error=None)
        session.update(status="complete", customer=customer)
        self.attached[payment_method] = customer
        return intent

    def fail_setup_attempt(self, sid: str, decline_code: str = "generic_decline",
                           message: str = "Your card was declined.") -> dict[str, Any]:
        """A card the bank declines on the setup page: the SetupIntent waits for another card, the session stays open."""
        intent = self.setup_intents[self.sessions[sid]["setup_intent"]]
        intent.update(status="requires_payment_method", payment_method=None, last_setup_error={
            "type": "card_error", "code": "card_declined", "decline_code": decline_code, "message": message})
        return intent

    def set_setup_intent(self, sid: str, **fields: Any) -> None:
        self.setup_intents[self.sessions[sid]["setup_intent"]].update(fields)

    def _expanded_setup_intent(self, seti: str, wanted: set[str], prefix: str = "") -> dict[str, Any]:
        intent = dict(self.setup_intents[seti])
        if f"{prefix}payment_method" in wanted and intent["payment_method"]:
            intent["payment_method"] = self.payment_method(intent["payment_method"])
        return intent

    def payment_method(self, pmid: str) -> dict[str, Any]:
        """A card PaymentMethod as Stripe returns it: brand, last 4 and expiry only (never the number)."""
        brand, last4 = TEST_CARDS.get(pmid, ("visa", "4242"))
        return {"id": pmid, "object": "payment_method", "type": "card", "customer": self.attached.get(pmid),
                "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2030, "funding": "credit",
                         "country": "US"},
                "created": NOW, "livemode": False, "metadata": {}}

    def get_setup_intent(self, req: Recorded, seti: str) -> Reply:
        if seti not in self.setup_intents:
            return self._error(404, "invalid_request_error", f"No such setupintent: '{seti}'", "resource_missing")
        return Reply(200, self._expanded_setup_intent(seti, expands(flat(req))))
