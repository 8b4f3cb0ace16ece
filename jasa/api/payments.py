"""API routes for invoices, payments, refunds and saved payment methods.

Money is ``{"amount": <integer minor units>, "currency": "IDR"}``. Every POST honours the
Idempotency-Key header (jasa.api.idempotency); starting a payment also uses it as the
payment's idempotency key, so a retried request never starts a second payment.
Input is bounded here (MAX_AMOUNT, MAX_QUANTITY, MAX_DUE_YEARS) so that nothing a caller sends
can overflow a column: a number too large is a 422 naming its field, never a database error.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict, Field, StrictInt, ValidationInfo, field_validator

from jasa.accounts.models import Client
from jasa.api.auth import api_auth, require_slug
from jasa.api.schemas import Aware, ErrorOut, In
from jasa.core import clock
from jasa.core.errors import JasaError, NotFound, ValidationError
from jasa.core.money import CURRENCIES, Money
from jasa.payments import selectors, services, services_methods, services_transfer
from jasa.payments.models import (
    MAX_AMOUNT,
    Invoice,
    PaymentIntent,
    Refund,
    RefundChannel,
    RefundStatus,
    SavedPaymentMethod,
)
from jasa.payments.services import too_much_message

router = Router(tags=["payments"], auth=api_auth)


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 503: ErrorOut}

MAX_QUANTITY = 100_000  # as the staff's invoice form
MAX_DUE_YEARS = 10  # a due date further from today than this is a typo


class MoneyIO(In):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="integer minor units, at most 10^13")
    currency: str = "IDR"

    @field_validator("currency")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unsupported currency; use one of {', '.join(CURRENCIES)}")
        return value

    def money(self) -> Money:
        return Money(self.amount, self.currency)


def _money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


class LineIn(In):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["service", "surcharge", "discount", "tax"] = "service"
    description: str = Field(min_length=1, max_length=300)
    amount: MoneyIO
    quantity: StrictInt = Field(1, ge=1, le=MAX_QUANTITY)

    @field_validator("quantity")
    @classmethod
    def _line_total_bounded(cls, quantity: int, info: ValidationInfo) -> int:
        amount = info.data.get("amount")  # absent when the amount itself was invalid
        if amount is not None and abs(amount.amount) * quantity > MAX_AMOUNT:
            raise ValueError(too_much_message())
        return quantity

    @property
    def total(self) -> int:
        return abs(self.amount.amount) * self.quantity


class LineOut(Schema):
    kind: str
    description: str
    quantity: int
    unit: dict
    amount: dict

    @staticmethod
    def resolve_unit(obj) -> dict:
        return _money(obj.unit_amount, obj.currency)

    @staticmethod
    def resolve_amount(obj) -> dict:
        return _money(obj.line_amount, obj.currency)


class InvoiceIn(In):
    model_config = ConfigDict(extra="forbid")

    client_id: uuid.UUID
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    currency: str | None = Field(None, min_length=3, max_length=3)
    due_at: Aware | None = Field(None, description=f"with its UTC offset, within {MAX_DUE_YEARS} years of today")
    source: str = Field("", max_length=200)
    memo: str = Field("", max_length=5000)
    issue: bool = False

    @field_validator("lines")
    @classmethod
    def _lines_bounded(cls, lines: list[LineIn]) -> list[LineIn]:
        if sum(line.total for line in lines) > MAX_AMOUNT:
            raise ValueError(too_much_message())
        return lines

    @field_validator("due_at")
    @classmethod
    def _due_at_near(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and abs(value - clock.now()) > dt.timedelta(days=365 * MAX_DUE_YEARS):
            raise ValueError(_("Give a due date within %(years)d years of today.") % {"years": MAX_DUE_YEARS})
        return value


class InvoiceOut(Schema):
    id: uuid.UUID
    number: str | None
    status: str
    client_id: uuid.UUID
    currency: str
    subtotal: dict
    tax: dict
    total: dict
    paid: dict
    refunded: dict
    balance: dict
    lines: list[LineOut]
    source: str
    memo: str
    due_at: dt.datetime | None
    issued_at: dt.datetime | None
    paid_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_subtotal(obj: Invoice) -> dict:
        return obj.subtotal.to_json()

    @staticmethod
    def resolve_tax(obj: Invoice) -> dict:
        return obj.tax.to_json()

    @staticmethod
    def resolve_total(obj: Invoice) -> dict:
        return obj.total.to_json()

    @staticmethod
    def resolve_paid(obj: Invoice) -> dict:
        return services.invoice_amounts(obj)["paid"].to_json()

    @staticmethod
    def resolve_refunded(obj: Invoice) -> dict:
        return services.invoice_amounts(obj)["refunded"].to_json()

    @staticmethod
    def resolve_balance(obj: Invoice) -> dict:
        return services.invoice_amounts(obj)["balance"].to_json()

    @staticmethod
    def resolve_lines(obj: Invoice) -> list:
        return list(obj.lines.all())


class VoidIn(In):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


def _web_address(value: str) -> str:
    # the gateway sends the client's browser there after paying: only a web address, never javascript: & co.
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except DjangoValidationError:
            raise ValueError(_("Give a web address starting with https:// (or http://)."))
    return value


class PaymentIn(In):
    model_config = ConfigDict(extra="forbid")

    gateway: str | None = Field(None, max_length=40)
    method: str | None = Field(None, max_length=20)
    amount: MoneyIO | None = None
    return_url: Annotated[str, AfterValidator(_web_address)] = Field("", max_length=1000)
    save_method: bool = False
    saved_method_id: uuid.UUID | None = Field(
        None, description="charge this saved method of the invoice's client now, off-session, for the whole "
                          "balance; gateway, method, amount, return_url and save_method are then left out")
    idempotency_key: str | None = Field(None, min_length=1, max_length=200,
                                        description="defaults to the Idempotency-Key header")


class PaymentOut(Schema):
    id: uuid.UUID
    invoice_id: uuid.UUID
    status: str
    gateway: str
    method: str
    amount: dict
    surcharge: dict
    applied: dict
    checkout_url: str
    next_action: dict
    failure_code: str
    failure_message: str
    off_session: bool
    saved_method_id: uuid.UUID | None  # the saved method an off-session charge used
    expires_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_amount(obj: PaymentIntent) -> dict:
        return obj.amount.to_json()

    @staticmethod
    def resolve_surcharge(obj: PaymentIntent) -> dict:
        return obj.surcharge.to_json()

    @staticmethod
    def resolve_applied(obj: PaymentIntent) -> dict:
        return obj.applied.to_json()


class RefundIn(In):
    model_config = ConfigDict(extra="forbid")

    amount: MoneyIO
    reason: str = Field(min_length=1, max_length=1000)
    refund_key: str | None = Field(None, min_length=1, max_length=200)


class RefundOut(Schema):
    id: uuid.UUID
    payment_id: uuid.UUID
    status: str
    amount: dict
    reason: str
    refund_key: str
    failure_message: str
    created_at: dt.datetime

    @staticmethod
    def resolve_amount(obj: Refund) -> dict:
        return obj.amount.to_json()


class RefundTransferIn(In):
    model_config = ConfigDict(extra="forbid")

    amount: MoneyIO
    reason: str = Field(min_length=1, max_length=1000)
    transfer_reference: str = Field(min_length=1, max_length=100, description="the bank's reference of the transfer")
    transferred_on: dt.date | None = Field(None, description="the day the money left the bank (workspace zone); "
                                                              "default: the day it is recorded")
    refund_key: str | None = Field(None, min_length=1, max_length=200,
                                   description="the owed refund to settle; default: the payment's owed refund")


class RefundTransferOut(RefundOut):
    """A refund by bank transfer: owed (status pending, with the client's account once given) or transferred."""

    invoice_id: uuid.UUID
    invoice_number: str | None
    client_id: uuid.UUID
    client_name: str
    has_account: bool
    bank_name: str
    account_number: str
    account_holder: str
    transfer_reference: str
    transferred_on: dt.date | None

    @staticmethod
    def resolve_invoice_id(obj: Refund) -> uuid.UUID:
        return obj.payment.invoice_id

    @staticmethod
    def resolve_invoice_number(obj: Refund) -> str | None:
        return obj.payment.invoice.number

    @staticmethod
    def resolve_client_id(obj: Refund) -> uuid.UUID:
        return obj.payment.invoice.client_id

    @staticmethod
    def resolve_client_name(obj: Refund) -> str:
        return obj.payment.invoice.client.name

    @staticmethod
    def resolve_transferred_on(obj: Refund) -> dt.date | None:
        return services_transfer.transfer_date(obj)


class SavedMethodOut(Schema):
    id: uuid.UUID
    client_id: uuid.UUID
    gateway: str
    method: str
    brand: str
    masked: str
    expiry_month: int | None
    expiry_year: int | None
    consent_at: dt.datetime
    is_active: bool


# --- invoices -------------------------------------------------------------------------------------

@router.get("/workspaces/{slug}/invoices", response={200: list[InvoiceOut], **ERRORS})
def invoices_list(request: HttpRequest, slug: str,
                  status: Literal["draft", "open", "paid", "void", "uncollectible"] | None = None):
    workspace, _ = require_slug(request, slug, "payments.view")
    return list(selectors.invoices(workspace, status=status)[:200])


@router.post("/workspaces/{slug}/invoices", response={201: InvoiceOut, **ERRORS})
def invoices_create(request: HttpRequest, slug: str, payload: InvoiceIn):
    workspace, _ = require_slug(request, slug, "invoices.manage")
    client = Client.objects.filter(workspace=workspace, pk=payload.client_id).first()
    if client is None:
        raise NotFound("No such client.", field="client_id")
    invoice = services.invoice_create(
        workspace=workspace, client=client, currency=payload.currency, due_at=payload.due_at,
        source=payload.source, memo=payload.memo,
        lines=[{"kind": li.kind, "description": li.description, "amount": li.amount.money(),
                "quantity": li.quantity} for li in payload.lines],
    )
    if payload.issue:
        invoice = services.invoice_issue(invoice)
    return Status(201, invoice)


@router.get("/workspaces/{slug}/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS})
def invoices_get(request: HttpRequest, slug: str, invoice_id: uuid.UUID):
    workspace, _ = require_slug(request, slug, "payments.view")
    return selectors.invoice_get(workspace, invoice_id)


@router.post("/workspaces/{slug}/invoices/{invoice_id}/issue", response={200: InvoiceOut, **ERRORS})
def invoices_issue(request: HttpRequest, slug: str, invoice_id: uuid.UUID):
    workspace, _ = require_slug(request, slug, "invoices.manage")
    return services.invoice_issue(selectors.invoice_get(workspace, invoice_id))


@router.post("/workspaces/{slug}/invoices/{invoice_id}/void", response={200: InvoiceOut, **ERRORS})
def invoices_void(request: HttpRequest, slug: str, invoice_id: uuid.UUID, payload: VoidIn):
    workspace, _ = require_slug(request, slug, "invoices.manage")
    return services.invoice_void(selectors.invoice_get(workspace, invoice_id), payload.reason)


# --- payments -------------------------------------------------------------------------------------

@router.post("/workspaces/{slug}/invoices/{invoice_id}/payments", response={201: PaymentOut, **ERRORS})
def payments_start(request: HttpRequest, slug: str, invoice_id: uuid.UUID, payload: PaymentIn):
    """Start a payment of the invoice: a checkout for the client (``checkout_url`` / ``next_action``), or with
    ``saved_method_id`` an off-session charge of the client's saved method, answered with its outcome
    (``succeeded``; ``failed`` with ``failure_code`` when the bank declines; ``requires_action`` when the bank
    wants the client to confirm it at ``next_action.url``)."""
    workspace, _member = require_slug(request, slug, "invoices.manage")
    invoice = selectors.invoice_get(workspace, invoice_id)
    key = payload.idempotency_key or request.headers.get("Idempotency-Key") or f"api:{uuid.uuid4()}"
    if payload.saved_method_id is not None:
        return Status(201, _charge_saved(workspace, invoice, payload.saved_method_id, payload, key))
    payment = services.payment_start(
        invoice=invoice, idempotency_key=key, gateway=payload.gateway, method=payload.method,
        amount=payload.amount.money() if payload.amount else None, return_url=payload.return_url,
        save_method=payload.save_method,
    )
    return Status(201, payment)


def _charge_saved(workspace, invoice: Invoice, saved_id: uuid.UUID, payload: PaymentIn, key: str) -> PaymentIntent:
    given = [name for name in ("gateway", "method", "amount", "return_url", "save_method")
             if name in payload.model_fields_set]
    if given:
        # the saved method fixes the gateway and the method, and an off-session charge pays the whole balance
        raise ValidationError(_("Leave out %(fields)s when charging a saved method.") % {"fields": ", ".join(given)},
                              field=given[0])
    saved = selectors.saved_methods(workspace, active_only=False).filter(pk=saved_id).first()
    if saved is None:  # also another business's method: it does not exist here
        raise NotFound(_("No such saved payment method."), field="saved_method_id")
    if saved.is_active and services_methods.is_expired(saved):
        # as for a no-show's balance (usable_saved_method): an expired card is only declined, so it is not tried
        raise ValidationError(_("That card expired at the end of %(month)02d/%(year)d; ask the client to pay on "
                                "the invoice's page or to save a new card.")
                              % {"month": saved.expiry_month, "year": saved.expiry_year}, field="saved_method_id")
    try:
        return services.payment_charge_saved(invoice=invoice, saved_method=saved, idempotency_key=key)
    except JasaError as exc:
        if exc.field == "saved_method":  # the service's name for it; the caller sent saved_method_id
            exc.field = "saved_method_id"
        raise


# a filter value is a status or a method name: short lowercase words (anything else matches nothing anyway)
FilterWord = Annotated[str | None, Query(None, max_length=40, pattern=r"^[a-z0-9_]+$")]


@router.get("/workspaces/{slug}/payments", response={200: list[PaymentOut], **ERRORS})
def payments_list(request: HttpRequest, slug: str, status: FilterWord = None, method: FilterWord = None,
                  invoice_id: uuid.UUID | None = None):
    workspace, _ = require_slug(request, slug, "payments.view")
    invoice = selectors.invoice_get(workspace, invoice_id) if invoice_id else None
    return list(selectors.payments(workspace, status=status, method=method, invoice=invoice)[:200])


@router.get("/workspaces/{slug}/payments/{payment_id}", response={200: PaymentOut, **ERRORS})
def payments_get(request: HttpRequest, slug: str, payment_id: uuid.UUID):
    workspace, _ = require_slug(request, slug, "payments.view")
    return selectors.payment_get(workspace, payment_id)


@router.post("/workspaces/{slug}/payments/{payment_id}/sync", response={200: PaymentOut, **ERRORS})
def payments_sync(request: HttpRequest, slug: str, payment_id: uuid.UUID):
    workspace, _ = require_slug(request, slug, "payments.view")
    return services.payment_sync(selectors.payment_get(workspace, payment_id).pk)


# --- refunds --------------------------------------------------------------------------------------

@router.post("/workspaces/{slug}/payments/{payment_id}/refunds", response={201: RefundOut, **ERRORS})
def refunds_create(request: HttpRequest, slug: str, payment_id: uuid.UUID, payload: RefundIn):
    workspace, _ = require_slug(request, slug, "payments.refund")
    payment = selectors.payment_get(workspace, payment_id)
    key = payload.refund_key or request.headers.get("Idempotency-Key") or None
    refund = services.payment_refund(payment=payment, amount=payload.amount.money(), reason=payload.reason,
                                     refund_key=key)
    return Status(201, refund)


@router.get("/workspaces/{slug}/refunds", response={200: list[RefundOut], **ERRORS})
def refunds_list(request: HttpRequest, slug: str, payment_id: uuid.UUID | None = None):
    workspace, _ = require_slug(request, slug, "payments.view")
    payment = selectors.payment_get(workspace, payment_id) if payment_id else None
    return list(selectors.refunds(workspace, payment=payment)[:200])


# --- refunds by bank transfer (VA / store payments the gateway cannot refund) -------------------

@router.get("/workspaces/{slug}/refunds/owed", response={200: list[RefundTransferOut], **ERRORS})
def refund_transfers_owed(request: HttpRequest, slug: str):
    """Refunds the business still has to pay by bank transfer, oldest first, with the client's account."""
    workspace, _ = require_slug(request, slug, "payments.refund")
    owed = selectors.refunds(workspace).filter(channel=RefundChannel.BANK_TRANSFER, status=RefundStatus.PENDING)
    return list(owed.select_related("payment__invoice__client", "workspace").order_by("created_at")[:200])


@router.post("/workspaces/{slug}/payments/{payment_id}/refund-transfers", response={201: RefundTransferOut, **ERRORS})
def refund_transfers_record(request: HttpRequest, slug: str, payment_id: uuid.UUID, payload: RefundTransferIn):
    """Record a refund paid by bank transfer: settles the payment's owed refund (or ``refund_key``'s); the
    client gets the refund receipt by email. Repeating it with the same key records nothing more."""
    workspace, _ = require_slug(request, slug, "payments.refund")
    payment = selectors.payment_get(workspace, payment_id)
    refund = services_transfer.refund_transfer_record(
        payment=payment, amount=payload.amount.money(), reason=payload.reason,
        transfer_reference=payload.transfer_reference, transferred_on=payload.transferred_on,
        refund_key=payload.refund_key,
    )
    return Status(201, Refund.objects.select_related("payment__invoice__client", "workspace").get(pk=refund.pk))


# --- saved methods --------------------------------------------------------------------------------

@router.get("/workspaces/{slug}/saved-methods", response={200: list[SavedMethodOut], **ERRORS})
def saved_methods_list(request: HttpRequest, slug: str, client_id: uuid.UUID | None = None):
    workspace, _ = require_slug(request, slug, "payments.view")
    client = Client.objects.filter(workspace=workspace, pk=client_id).first() if client_id else None
    if client_id and client is None:
        raise NotFound("No such client.", field="client_id")
    return list(selectors.saved_methods(workspace, client=client))


@router.delete("/workspaces/{slug}/saved-methods/{saved_id}", response={204: None, **ERRORS})
def saved_methods_delete(request: HttpRequest, slug: str, saved_id: uuid.UUID):
    workspace, _ = require_slug(request, slug, "invoices.manage")
    saved: SavedPaymentMethod = selectors.saved_method_get(workspace, saved_id)
    # the same removal as the client's portal: jasa stops charging it, then the gateway deletes its token
    services_methods.saved_method_remove_for_client(saved)
    return Status(204, None)
