"""A local Xendit: Invoices (/v2/invoices, /invoices/{id}/expire!), Payment Requests (/payment_requests),
Payment Methods expiry, Refunds (/refunds) and /balance.

Payloads follow Xendit's API reference (developers.xendit.co / docs.xendit.co): invoices with
``invoice_url``, ``external_id`` and PENDING/PAID/SETTLED/EXPIRED; payment requests with a nested
``payment_method`` whose ``channel_properties`` carry ``virtual_account_number`` / ``qr_string`` /
``payment_code``, e-wallet ``actions``; refunds; errors as ``{"error_code", "message"}``.
A repeated ``idempotency-key`` replays the first answer. Saved payment method ids steer renewals:
``pm-declined`` fails with INSUFFICIENT_BALANCE; any other id succeeds until it is expired
(``POST /v2/payment_methods/{id}/expire`` answers the payment method with ``status: EXPIRED``), after
which a payment request with it is refused with 400 INVALID_TOKEN, as Xendit documents.
Refunds are created with the status in ``refund_outcome`` (SUCCEEDED unless a test sets PENDING, FAILED or
CANCELLED: Xendit answers most refunds PENDING and reports the outcome by webhook); ``settle_refund``
finishes a pending one.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from .server import FakeGateway, Recorded, Reply

_ids = itertools.count(1)
CREATED = "2026-12-02T03:00:00.000Z"


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids):08d}-0000-4000-8000-000000000000"


class FakeXendit(FakeGateway):
    def __init__(self, secret_key: str, callback_token: str) -> None:
        super().__init__()
        self.secret_key = secret_key
        self.callback_token = callback_token
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payment_requests: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.saved_methods: dict[str, dict[str, Any]] = {}  # MULTIPLE_USE methods charged by id, by id
        self.refund_outcome = "SUCCEEDED"  # the status new refunds get
        self.route("POST", r"/v2/invoices", self.create_invoice)
        self.route("GET", r"/v2/invoices", self.list_invoices)
        self.route("GET", r"/v2/invoices/(?P<iid>[^/]+)", self.get_invoice)
        self.route("POST", r"/invoices/(?P<iid>[^/]+)/expire!", self.expire_invoice)
        self.route("POST", r"/payment_requests", self.idempotent(self.create_payment_request))
        self.route("GET", r"/payment_requests", self.list_payment_requests)
        self.route("GET", r"/payment_requests/(?P<pid>pr-[^/]+)", self.get_payment_request)
        self.route("POST", r"/v2/payment_methods/(?P<pmid>pm-[^/]+)/expire", self.expire_payment_method)
        self.route("POST", r"/refunds", self.idempotent(self.create_refund))
        self.route("GET", r"/refunds", self.list_refunds)
        self.route("GET", r"/balance", lambda req: Reply(200, {"balance": 1_241_231}))

    # --- test helpers -----------------------------------------------------------------
    def set_invoice(self, iid: str, status: str, **extra: Any) -> None:
        self.invoices[iid].update(status=status, **extra)

    def save_method(self, pmid: str) -> dict[str, Any]:
        """A MULTIPLE_USE e-wallet payment method the client linked earlier."""
        return self.saved_methods.setdefault(pmid, {
            "id": pmid, "type": "EWALLET", "reusability": "MULTIPLE_USE", "status": "ACTIVE",
            "ewallet": {"channel_code": "DANA", "channel_properties": {},
                        "account": {"name": None, "balance": None, "point_balance": None,
                                    "account_details": "+62******7890"}},
            "created": CREATED, "updated": CREATED})

    def set_payment_request(self, pid: str, status: str, **extra: Any) -> None:
        self.payment_requests[pid].update(status=status, **extra)

    def settle_refund(self, rid: str, status: str, failure_code: str = "INELIGIBLE_TRANSACTION") -> dict[str, Any]:
        """A pending refund finishes: SUCCEEDED, or FAILED/CANCELLED with a failure code."""
        refund = self.refunds[rid]
        refund.update(status=status, failure_code=None if status == "SUCCEEDED" else failure_code, updated=CREATED)
        return refund

    def invoice_callback(self, iid: str) -> bytes:
        return json.dumps(self.invoices[iid]).encode()

    def payment_callback(self, pid: str, event: str = "payment.succeeded") -> bytes:
        pr = self.payment_requests[pid]
        data = {"id": _id("py"), "payment_request_id": pid, "reference_id": pr["reference_id"], "status": "SUCCEEDED",
                "amount": pr["amount"], "currency": "IDR", "country": "ID", "metadata": pr["metadata"],
                "payment_method": pr["payment_method"], "channel_code": "BCA", "created": CREATED, "updated": CREATED}
        return json.dumps({"event": event, "business_id": "5f27a14a9bf05c73dd040bc8", "created": CREATED,
                           "data": data}).encode()

    # --- invoices -----------------------------------------------------------------------
    def create_invoice(self, req: Recorded) -> Reply:
        body = req.json()
        if not body.get("external_id") or not isinstance(body.get("amount"), int):
            return Reply(400, {"error_code": "API_VALIDATION_ERROR", "message": "external_id and amount are required"})
        iid = f"{next(_ids):024x}"
        invoice = {
            "id": iid, "external_id": body["external_id"], "user_id": "5f27a14a9bf05c73dd040bc8", "status": "PENDING",
            "merchant_name": "Studio Jasa", "merchant_profile_picture_url": "https://xnd-companies.s3.amazonaws.com/x.png",
            "amount": body["amount"], "payer_email": body.get("payer_email"), "description": body.get("description"),
            "expiry_date": "2026-12-03T03:00:00.000Z", "invoice_url": f"https://checkout-staging.xendit.co/web/{iid}",
            "available_banks": [{"bank_code": "BCA", "collection_type": "POOL", "transfer_amount": body["amount"],
                                 "bank_branch": "Virtual Account", "account_holder_name": "STUDIO JASA"}],
            "should_exclude_credit_card": False, "should_send_email": False, "created": CREATED, "updated": CREATED,
            "currency": body.get("currency", "IDR"), "metadata": body.get("metadata"),
        }
        self.invoices[iid] = invoice
        return Reply(200, invoice)

    def list_invoices(self, req: Recorded) -> Reply:
        wanted = req.query.get("external_id", [None])[0]
        return Reply(200, [i for i in self.invoices.values() if i["external_id"] == wanted])

    def get_invoice(self, req: Recorded, iid: str) -> Reply:
        if iid not in self.invoices:
            return Reply(404, {"error_code": "INVOICE_NOT_FOUND_ERROR", "message": "Could not find invoice"})
        return Reply(200, self.invoices[iid])

    def expire_invoice(self, req: Recorded, iid: str) -> Reply:
        self.invoices[iid]["status"] = "EXPIRED"
        return Reply(200, self.invoices[iid])

    # --- payment requests ----------------------------------------------------------------
    def create_payment_request(self, req: Recorded) -> Reply:
        body = req.json()
        pid = _id("pr")
        if body.get("payment_method_id"):
            declined = body["payment_method_id"] == "pm-declined"
            pm = json.loads(json.dumps(self.save_method(body["payment_method_id"])))
            if pm["status"] != "ACTIVE":
                return Reply(400, {"error_code": "INVALID_TOKEN", "message": "Payment token ID specified in the "
                                   "payment request has expired or has been canceled."})
            status = "FAILED" if declined else "SUCCEEDED"
            failure = "INSUFFICIENT_BALANCE" if declined else None
            actions: list[dict[str, Any]] = []
        else:
            pm = json.loads(json.dumps(body["payment_method"]))
            pm.update(id=_id("pm"), status="ACTIVE", created=CREATED, updated=CREATED)
            detail = pm[pm["type"].lower()]
            props = detail["channel_properties"]
            status, failure, actions = "PENDING", None, []
            if pm["type"] == "VIRTUAL_ACCOUNT":
                props["virtual_account_number"] = "8808999912345678"
                props.setdefault("expires_at", "2026-12-03T03:00:00.000Z")
            elif pm["type"] == "QR_CODE":
                props["qr_string"] = "00020101021226660014ID.LINKAJA.WWW011893600911002411480002152003260414375210303UME51450015ID.OR.GPNQR.WWW0215ID10200411948760303UME5204839853033605802ID5913Studio Jasa6007Jakarta6105101106304B1C2"
                props.setdefault("expires_at", "2026-12-02T03:15:00.000Z")
            elif pm["type"] == "OVER_THE_COUNTER":
                props["payment_code"] = "TEST123456"
                props.setdefault("expires_at", "2026-12-05T03:00:00.000Z")
            elif pm["type"] == "EWALLET":
                status = "REQUIRES_ACTION"
                if detail["channel_code"] != "OVO":  # OVO pushes a notification to the phone instead
                    actions = [
                        {"action": "AUTH", "url_type": "DEEPLINK", "method": "GET",
                         "url": f"https://link.dana.id/pay?ref={pid}"},
                        {"action": "AUTH", "url_type": "WEB", "method": "GET",
                         "url": f"https://ewallet-mock-connector.xendit.co/v1/ewallet_connector/checkouts?token={pid}"},
                    ]
        pr = {
            "id": pid, "business_id": "5f27a14a9bf05c73dd040bc8", "reference_id": body["reference_id"],
            "amount": body["amount"], "currency": body["currency"], "country": body.get("country", "ID"),
            "description": body.get("description"), "metadata": body.get("metadata"), "customer_id": None,
            "payment_method": pm, "status": status, "actions": actions, "failure_code": failure,
            "capture_method": "AUTOMATIC", "initiator": None, "card_verification_results": None,
            "created": CREATED, "updated": CREATED,
        }
        self.payment_requests[pid] = pr
        return Reply(201, pr)

    def list_payment_requests(self, req: Recorded) -> Reply:
        wanted = req.query.get("reference_id", [None])[0]
        data = [p for p in self.payment_requests.values() if p["reference_id"] == wanted]
        return Reply(200, {"data": data, "has_more": False, "links": []})

    def get_payment_request(self, req: Recorded, pid: str) -> Reply:
        if pid not in self.payment_requests:
            return Reply(404, {"error_code": "DATA_NOT_FOUND", "message": "Payment request not found"})
        return Reply(200, self.payment_requests[pid])

    def expire_payment_method(self, req: Recorded, pmid: str) -> Reply:
        if pmid in self.saved_methods:  # a MULTIPLE_USE method: no later payment request may use it
            self.saved_methods[pmid].update(status="EXPIRED", updated=CREATED)
            return Reply(200, self.saved_methods[pmid])
        for pr in self.payment_requests.values():
            if pr["payment_method"]["id"] == pmid:
                pr["payment_method"]["status"] = "EXPIRED"
                if pr["status"] in ("PENDING", "REQUIRES_ACTION"):
                    pr["status"] = "CANCELED"
                return Reply(200, pr["payment_method"])
        return Reply(404, {"error_code": "DATA_NOT_FOUND", "message": "Payment method not found"})

    # --- refunds -------------------------------------------------------------------------
    def create_refund(self, req: Recorded) -> Reply:
        body = req.json()
        source = self.payment_requests.get(body.get("payment_request_id") or "") or self.invoices.get(
            body.get("invoice_id") or "")
        if source is None:
            return Reply(404, {"error_code": "DATA_NOT_FOUND", "message": "Payment not found"})
        pm_type = (source.get("payment_method") or {}).get("type") if "payment_method" in source else "INVOICE"
        if pm_type in ("VIRTUAL_ACCOUNT", "OVER_THE_COUNTER"):
            return Reply(403, {"error_code": "REFUND_NOT_SUPPORTED", "message": "Refund is not supported for this channel"})
        if pm_type == "QR_CODE" and body["amount"] != source["amount"]:
            return Reply(403, {"error_code": "PARTIAL_REFUND_NOT_SUPPORTED",
                               "message": "Partial refund is not supported for this issuer"})
        refunded = sum(r["amount"] for r in self.refunds.values()  # a pending refund holds its amount too
                       if r["status"] in ("SUCCEEDED", "PENDING")
                       and source["id"] in (r["payment_request_id"], r["invoice_id"]))
        if refunded + body["amount"] > source["amount"]:
            return Reply(400, {"error_code": "MAXIMUM_REFUND_AMOUNT_REACHED",
                               "message": "The refund amount exceeds the remaining refundable amount"})
        refund = {
            "id": _id("rfd"), "payment_request_id": body.get("payment_request_id"), "invoice_id": body.get("invoice_id"),
            "payment_id": _id("py"), "amount": body["amount"], "currency": body.get("currency", "IDR"),
            "channel_code": "DANA", "country": "ID", "status": self.refund_outcome, "reason": body.get("reason"),
            "reference_id": body.get("reference_id"),
            "failure_code": "INELIGIBLE_TRANSACTION" if self.refund_outcome in ("FAILED", "CANCELLED") else None,
            "refund_fee_amount": None,
            "created": CREATED, "updated": CREATED, "metadata": body.get("metadata"),
        }
        self.refunds[refund["id"]] = refund
        return Reply(200, refund)

    def list_refunds(self, req: Recorded) -> Reply:
        pr = req.query.get("payment_request_id", [None])[0]
        inv = req.query.get("invoice_id", [None])[0]
        data = [r for r in self.refunds.values()
                if (pr and r["payment_request_id"] == pr) or (inv and r["invoice_id"] == inv)]
        return Reply(200, {"data": data, "has_more": False})
