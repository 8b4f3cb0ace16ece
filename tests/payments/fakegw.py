"""A tiny in-test payment gateway ("testpay"): an in-memory gateway world the tests drive directly.

It behaves like a real gateway where it matters to the core: creates are idempotent by reference,
get_status is the truth, refunds are idempotent by refund key, webhooks are HMAC-signed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

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
)

SECRET = b"testpay-webhook-secret"


class FakeGateway:
    name: ClassVar[str] = "testpay"
    label: ClassVar[str] = "Test gateway"
    methods: ClassVar[dict[Method, Capabilities]] = {
        Method.CARD: Capabilities(refund=True, partial_refund=True, save_for_recurring=True, off_session=True),
        Method.VA_BCA: Capabilities(refund=False, partial_refund=False),
        Method.QRIS: Capabilities(refund=True, partial_refund=False),
        Method.GOPAY: Capabilities(refund=True, partial_refund=True),
    }
    world: ClassVar[dict[str, dict[str, Any]]] = {}
    create_calls: ClassVar[list[str]] = []
    refund_calls: ClassVar[list[str]] = []
    fail_next: ClassVar[list[Exception]] = []

    def __init__(self, credentials: Mapping[str, str], *, sandbox: bool = True) -> None:
        self.credentials = dict(credentials)

    # --- test controls ---------------------------------------------------------------
    @classmethod
    def reset(cls) -> None:
        cls.world.clear()
        cls.create_calls.clear()
        cls.refund_calls.clear()
        cls.fail_next.clear()

    @classmethod
    def set_status(cls, reference: str, status: Status, **extra: Any) -> None:
        cls.world[reference]["status"] = status
        cls.world[reference].update(extra)

    @classmethod
    def sign(cls, body: bytes) -> str:
        return hmac.new(SECRET, body, hashlib.sha256).hexdigest()

    @classmethod
    def webhook(cls, event_id: str, reference: str, status: str = "paid") -> tuple[dict[str, str], bytes]:
        body = json.dumps({"id": event_id, "reference": reference, "status": status}).encode()
        return {"X-Testpay-Signature": cls.sign(body), "Content-Type": "application/json"}, body

    # --- the protocol ----------------------------------------------------------------
    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _answer(self, reference: str) -> GatewayPayment:
        row = self.world[reference]
        return GatewayPayment(
            gateway_reference=f"gw-{reference}", status=row["status"], amount=row["amount"], method=row["method"],
            next_action=row.get("next_action"), refunded=row.get("refunded"), fee=row.get("fee"),
            saved_method=row.get("saved_method"), failure_code=row.get("failure_code", ""),
            authorized=row.get("authorized", False), settled=row.get("settled", False),
        )

    def _create(self, request: PaymentRequest, status: Status, next_action: NextAction, **extra: Any) -> GatewayPayment:
        self._maybe_fail()
        self.create_calls.append(request.reference)
        if request.reference not in self.world:  # idempotent by reference, like order_id / Idempotency-Key
            self.world[request.reference] = {
                "status": status, "amount": request.amount, "method": request.method, "next_action": next_action,
                "refunds": {}, **extra,
            }
            if request.save_method and request.method == Method.CARD:
                self.world[request.reference]["saved_method"] = SavedMethodToken(
                    token=f"tok-{request.reference[:8]}", method=Method.CARD, brand="visa", masked="481111******1114",
                    expiry_month=12, expiry_year=2030)
        return self._answer(request.reference)

    def create_checkout(self, request: PaymentRequest) -> GatewayPayment:
        return self._create(request, Status.REQUIRES_ACTION,
                            NextAction(kind="redirect", url=f"https://pay.example.test/{request.reference}"))

    def create_direct(self, request: PaymentRequest) -> GatewayPayment:
        if request.method == Method.VA_BCA:
            action = NextAction(kind="va_number", va_number="12345" + request.reference[:6], bank="bca")
            return self._create(request, Status.PROCESSING, action)
        return self._create(request, Status.REQUIRES_ACTION,
                            NextAction(kind="redirect", url=f"https://pay.example.test/{request.reference}"))

    def charge_saved(self, request: PaymentRequest, token: str) -> GatewayPayment:
        if token == "tok-decline":
            self._maybe_fail()
            self.create_calls.append(request.reference)
            raise GatewayDeclined("card declined by the bank", code="card_declined")
        return self._create(request, Status.SUCCEEDED, NextAction(kind="none"))

    def get_status(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        self._maybe_fail()
        if reference not in self.world:
            raise PaymentNotFound(f"no payment {reference}")
        return self._answer(reference)

    def cancel(self, reference: str, *, gateway_reference: str = "") -> GatewayPayment:
        self._maybe_fail()
        if reference not in self.world:
            raise PaymentNotFound(f"no payment {reference}")
        row = self.world[reference]
        if row["status"] in (Status.CREATED, Status.REQUIRES_ACTION, Status.PROCESSING):
            row["status"] = Status.CANCELED
        return self._answer(reference)

    def refund(self, reference: str, amount: Money, *, refund_key: str, reason: str,
               gateway_reference: str = "") -> RefundResult:
        self._maybe_fail()
        self.refund_calls.append(refund_key)
        row = self.world[reference]
        if not self.methods[row["method"] or Method.CARD].refund:
            raise GatewayDeclined("this method cannot be refunded", code="refund_unsupported")
        if reason == "gateway-declines":
            raise GatewayDeclined("refund window closed", code="refund_window")
        if reason == "gateway-fails":
            return RefundResult(gateway_reference="", status="failed", amount=amount, failure_message="bank said no")
        if refund_key not in row["refunds"]:
            row["refunds"][refund_key] = amount
            row["refunded"] = sum(row["refunds"].values(), Money.zero(amount.currency))
        return RefundResult(gateway_reference=f"rf-{refund_key}", status="succeeded", amount=amount)

    @staticmethod
    def status_of_claim(claimed_status: str) -> Status | None:
        """A notification's "status" is a jasa status when it is one ("paid" is not)."""
        return Status(claimed_status) if claimed_status in Status._value2member_map_ else None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        signature = {k.lower(): v for k, v in headers.items()}.get("x-testpay-signature", "")
        if not signature or not hmac.compare_digest(signature, self.sign(body)):
            raise WebhookRejected("bad signature")
        try:
            data = json.loads(body)
            return WebhookEvent(event_id=str(data["id"]), reference=str(data["reference"]), kind="payment",
                                claimed_status=str(data.get("status", "")), payload=data)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected(f"malformed: {exc}")

    def test_connection(self) -> str:
        self._maybe_fail()
        return "testpay reachable"


__all__ = ["FakeGateway", "GatewayError", "GatewayDeclined"]
