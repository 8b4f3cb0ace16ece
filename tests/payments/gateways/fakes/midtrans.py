"""A local Midtrans: Snap /snap/v1/transactions and Core API /v2/charge, /v2/{order_id}/status|cancel|expire|refund.

Answers follow the payloads in Midtrans' API reference (docs.midtrans.com / api-docs.midtrans.com):
string ``status_code`` and ``gross_amount`` with two decimals, ``va_numbers``, ``bill_key``/``biller_code``,
``payment_code``, ``actions`` for QRIS/GoPay/ShopeePay, ``saved_token_id`` for cards.
Saved-card tokens steer the outcome: ``tok-deny`` is declined, ``tok-expired`` is rejected (411),
``tok-3ds`` needs 3-D Secure; anything else captures.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from .server import FakeGateway, Recorded, Reply

TIME = "2026-12-02 10:00:00"
EXPIRY = "2026-12-03 10:00:00"


class FakeMidtrans(FakeGateway):
    def __init__(self, server_key: str) -> None:
        super().__init__()
        self.server_key = server_key
        self.transactions: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}  # refund_key -> answer
        self.route("POST", r"/snap/v1/transactions", self.snap)
        self.route("POST", r"/v2/charge", self.charge)
        self.route("GET", r"/v2/(?P<order_id>[^/]+)/status", self.status)
        self.route("POST", r"/v2/(?P<order_id>[^/]+)/(?P<action>cancel|expire)", self.cancel)
        self.route("POST", r"/v2/(?P<order_id>[^/]+)/refund", self.refund)

    # --- test helpers -----------------------------------------------------------------
    def set_status(self, order_id: str, transaction_status: str, fraud_status: str | None = None, **extra: Any) -> None:
        tx = self.transactions[order_id]
        tx.update(transaction_status=transaction_status, **extra)
        if fraud_status is not None:
            tx["fraud_status"] = fraud_status
        tx["status_code"] = {"pending": "201", "deny": "202", "cancel": "200", "expire": "407"}.get(transaction_status, "200")

    def notification(self, order_id: str, server_key: str | None = None) -> dict[str, Any]:
        """An HTTP notification body as Midtrans POSTs it, signed with ``server_key``."""
        tx = dict(self.transactions[order_id])
        raw = f"{tx['order_id']}{tx['status_code']}{tx['gross_amount']}{server_key or self.server_key}"
        tx["signature_key"] = hashlib.sha512(raw.encode()).hexdigest()
        return tx

    # --- routes ---------------------------------------------------------------------
    def snap(self, req: Recorded) -> Reply:
        body = req.json()
        if not body.get("transaction_details", {}).get("order_id"):
            return Reply(400, {"error_messages": ["transaction_details.order_id is required"]})
        token = str(uuid.uuid4())
        return Reply(201, {"token": token, "redirect_url": f"{self.url}/snap/v4/redirection/{token}"})

    def charge(self, req: Recorded) -> Reply:
        body = req.json()
        details = body["transaction_details"]
        order_id = details["order_id"]
        if order_id in self.transactions:
            return Reply(406, {"status_code": "406", "status_message": "The request could not be completed due to a "
                               "conflict with the current state of the target resource, please try again",
                               "id": str(uuid.uuid4())})
        tx: dict[str, Any] = {
            "status_code": "201",
            "status_message": "Success, transaction is found",
            "transaction_id": str(uuid.uuid4()),
            "order_id": order_id,
            "merchant_id": "G141532850",
            "gross_amount": f"{details['gross_amount']}.00",
            "currency": "IDR",
            "payment_type": body["payment_type"],
            "transaction_time": TIME,
            "transaction_status": "pending",
            "fraud_status": "accept",
            "expiry_time": EXPIRY,
        }
        kind = body["payment_type"]
        if kind == "bank_transfer":
            bank = body["bank_transfer"]["bank"]
            if bank == "permata":
                tx["permata_va_number"] = "263001234567890"
            else:
                tx["va_numbers"] = [{"bank": bank, "va_number": "12345678901"}]
        elif kind == "echannel":
            tx.update(bill_key="990000000260", biller_code="70012")
        elif kind == "cstore":
            tx.update(payment_code="010811223344", store=body["cstore"]["store"])
        elif kind == "qris":
            tx.update(acquirer="gopay", qr_string="00020101021226620014COM.GO-JEK.WWW01189360091434506469550210G4506469550303UMI51440014ID.CO.QRIS.WWW0215ID10243341364120303UMI5204599953033605405100005802ID5907Example6007JAKARTA6105123456304A1B2",
                      actions=[{"name": "generate-qr-code", "method": "GET",
                                "url": f"{self.url}/v2/qris/{tx['transaction_id']}/qr-code"}])
        elif kind in ("gopay", "shopeepay"):
            tx["actions"] = [{"name": "deeplink-redirect", "method": "GET",
                              "url": f"https://simulator.sandbox.midtrans.com/{kind}/ui/checkout?id={tx['transaction_id']}"}]
            if kind == "gopay":
                tx["actions"].insert(0, {"name": "generate-qr-code", "method": "GET",
                                         "url": f"{self.url}/v2/gopay/{tx['transaction_id']}/qr-code"})
        elif kind == "credit_card":
            outcome = self._card(body["credit_card"]["token_id"], tx)
            if outcome is not None:
                return outcome
        self.transactions[order_id] = tx
        return Reply(200, tx)

    def _card(self, token: str, tx: dict[str, Any]) -> Reply | None:
        tx.update(masked_card="48111111-1114", bank="bni", card_type="credit", channel_response_code="00",
                  channel_response_message="Approved", approval_code="1594191166829")
        if token == "tok-expired":
            return Reply(200, {"status_code": "411", "status_message": "Token id is missing, invalid, or timed out",
                               "id": str(uuid.uuid4())})
        if token == "tok-deny":
            tx.update(status_code="202", status_message="Card is not authorized", transaction_status="deny",
                      fraud_status="accept", channel_response_code="05", channel_response_message="Do not honor")
        elif token == "tok-3ds":
            tx.update(status_code="201", transaction_status="pending",
                      redirect_url=f"https://api.sandbox.midtrans.com/v2/token/rba/redirect/{tx['transaction_id']}")
        else:
            tx.update(status_code="200", status_message="Success, Credit Card transaction is successful",
                      transaction_status="capture", fraud_status="accept", saved_token_id=token)
        return None

    def status(self, req: Recorded, order_id: str) -> Reply:
        tx = self.transactions.get(order_id)
        if tx is None:
            return Reply(404, {"status_code": "404", "status_message": "Transaction doesn't exist.",
                               "id": str(uuid.uuid4())})
        return Reply(200, tx)

    def cancel(self, req: Recorded, order_id: str, action: str) -> Reply:
        tx = self.transactions.get(order_id)
        if tx is None:
            return Reply(404, {"status_code": "404", "status_message": "Transaction doesn't exist."})
        if tx["transaction_status"] not in ("pending", "capture", "authorize"):
            return Reply(200, {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction"})
        self.set_status(order_id, "cancel" if action == "cancel" else "expire")
        return Reply(200, {**tx, "status_message": f"Success, transaction is {action}ed"})

    def refund(self, req: Recorded, order_id: str) -> Reply:
        body = req.json()
        if body.get("refund_key") in self.refunds:  # the same refund_key: the same refund, not a second one
            return Reply(200, self.refunds[body["refund_key"]])
        tx = self.transactions.get(order_id)
        if tx is None:
            return Reply(404, {"status_code": "404", "status_message": "Transaction doesn't exist."})
        refusable = tx["payment_type"] in ("bank_transfer", "echannel", "cstore")
        gross = int(tx["gross_amount"].split(".")[0])
        already = int(str(tx.get("refund_amount", "0")).split(".")[0])
        amount = int(body.get("amount") or gross - already)
        if refusable or tx["transaction_status"] not in ("settlement", "partial_refund") or already + amount > gross:
            return Reply(200, {"status_code": "412", "status_message": "Merchant cannot modify the status of the transaction",
                               "id": str(uuid.uuid4())})
        total = already + amount
        self.set_status(order_id, "refund" if total == gross else "partial_refund", refund_amount=f"{total}.00",
                        refunds=[*tx.get("refunds", []), {"refund_chargeback_id": len(self.refunds) + 1,
                                                           "refund_amount": f"{amount}.00", "reason": body.get("reason"),
                                                           "refund_key": body.get("refund_key"),
                                                           "refund_method": "", "bank_confirmed_at": TIME,
                                                           "created_at": TIME}])
        answer = {
            "status_code": "200", "status_message": "Success, refund request is approved",
            "transaction_id": tx["transaction_id"], "order_id": order_id, "gross_amount": tx["gross_amount"],
            "currency": "IDR", "payment_type": tx["payment_type"], "transaction_time": TIME,
            "transaction_status": tx["transaction_status"], "refund_chargeback_id": len(self.refunds) + 1,
            "refund_amount": f"{amount}.00", "refund_key": body.get("refund_key"),
        }
        self.refunds[body["refund_key"]] = answer
        return Reply(200, answer)
