"""Every write of the payment core. Domain code (bookings, projects, subscriptions) calls only these.

Crash safety of a payment, in order:
1. ``payment_start`` commits a ``created`` PaymentIntent first; its id is the reference and the
   gateway idempotency key.
2. The adapter is called outside any transaction (no row lock held over the network).
3. The answer is applied under ``select_for_update`` by :func:`_apply`.
If the process dies between 2 and 3, ``payments_reconcile`` asks the gateway for the status by
reference (never creates again) and applies it; a retried ``payment_start`` with the same key
re-submits the same reference, which the gateway deduplicates. Either way one charge.

Fee surcharge design: when the workspace's gateway account passes fees on and the method is
known (direct payments), the payment carries ``surcharge_amount`` (grossed up so the business
nets the applied amount) and the client is charged ``applied + surcharge``. When that payment
succeeds a ``surcharge`` line for it is added to the invoice, so the paid invoice and the receipt
show it as its own visible line and ``total == sum(lines)`` stays true. A hosted checkout (method
chosen on the gateway's page) carries no surcharge.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from fractions import Fraction
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jasa.core import audit, clock
from jasa.core.errors import Conflict, JasaError, NotFound, ValidationError
from jasa.core.money import CURRENCIES, Money, exponent
from jasa.payments import fees, inbox, signals, wording
from jasa.payments.connect import account_for, default_gateway_name, gateway_for, notification_url
from jasa.payments.gateways.base import (
    GatewayDeclined,
    GatewayError,
    GatewayPayment,
    Method,
    PaymentNotFound,
    PaymentRequest,
    SavedMethodToken,
    Status,
    WebhookRejected,
    gateway_class,
)
from jasa.payments.models import (
    MAX_AMOUNT,
    PAID_STATUSES,
    PENDING_STATUSES,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
    LedgerKind,
    LineKind,
    PaymentIntent,
    Receipt,
    Refund,
    RefundChannel,
    RefundStatus,
    SavedPaymentMethod,
    TaxSettings,
    WebhookEvent,
    can_reach,
    can_transition,
)
from jasa.payments.tax_terms import TaxTerms

log = logging.getLogger(__name__)


class GatewayUnavailable(JasaError):
    """The gateway did not answer (timeout, 5xx). Safe to retry with the same idempotency key."""

    code = "gateway_unavailable"
    status = 503


class LedgerMismatch(AssertionError):
    """Stored totals and the ledger disagree: money state is wrong and a person must look."""


# How long a payment may wait for the client before it expires, by method family.
EXPIRY: dict[str, dt.timedelta] = {
    "card": dt.timedelta(hours=1),
    "va": dt.timedelta(hours=24),
    "qris": dt.timedelta(minutes=15),
    "ewallet": dt.timedelta(minutes=15),
    "store": dt.timedelta(hours=24),
    "hosted": dt.timedelta(hours=24),
}
# How long before reconciliation asks the gateway about a payment that has not moved.
EXPECTED: dict[str, dt.timedelta] = {
    "card": dt.timedelta(minutes=10),
    "va": dt.timedelta(hours=1),
    "qris": dt.timedelta(minutes=5),
    "ewallet": dt.timedelta(minutes=5),
    "store": dt.timedelta(hours=1),
    "hosted": dt.timedelta(minutes=30),
}
CREATE_GRACE = dt.timedelta(minutes=2)  # a created payment younger than this may still be mid-submit


def _family(method: str) -> str:
    return Method(method).family if method else "hosted"


# --- invoices -------------------------------------------------------------------------------------


def _money(value: Any, field: str) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, dict):
        try:
            return Money.from_json(value)
        except (ValueError, TypeError):
            currency = value.get("currency", "IDR")
            raise ValidationError(currency_refusal(currency) if currency not in CURRENCIES else
                                  _("The amount must be a whole number of the currency's smallest unit."), field=field)
    raise ValidationError(_("Give the amount as {amount, currency}."), field=field)


def currency_refusal(currency) -> str:
    return _("%(currency)s is not a currency jasa supports; use one of %(known)s.") % {
        "currency": currency, "known": ", ".join(CURRENCIES)}


@transaction.atomic
def invoice_create(
    *,
    workspace,
    client,
    lines: list[dict],
    currency: str | None = None,
    due_at: dt.datetime | None = None,
    source: str = "",
    memo: str = "",
    language: str | None = None,
) -> Invoice:
    """A draft invoice. With ``source`` (e.g. ``booking:<uuid>:deposit``) a second call returns the first."""
    if source:
        existing = Invoice.objects.filter(workspace=workspace, source=source).first()
        if existing is not None:
            return existing
    if client.workspace_id != workspace.pk:
        raise ValidationError(_("That client belongs to another business."), field="client")
    currency = currency or workspace.currency
    try:
        exponent(currency)
    except ValueError:
        raise ValidationError(currency_refusal(currency), field="currency")
    if not lines:
        raise ValidationError(_("An invoice needs at least one line."), field="lines")
    prepared = _prepare_lines(lines, currency)
    if due_at is not None and due_at.tzinfo is None:
        raise ValidationError(_("The due date needs a time zone."), field="due_at")
    invoice = Invoice(
        workspace=workspace, client=client, currency=currency, due_at=due_at, source=source, memo=memo,
        language=language or getattr(client, "language", "id") or "id",
    )
    try:
        with transaction.atomic():
            invoice.save()
    except IntegrityError:
        # a concurrent call with the same source won
        existing = Invoice.objects.filter(workspace=workspace, source=source).first()
        if existing is None:
            raise
        return existing
    for line in prepared:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(prepared)
    _recompute_totals(invoice)
    audit.record(invoice, "invoice.create", after={"total": invoice.total, "source": source})
    return invoice


def _prepare_line(position: int, data: dict, currency: str) -> InvoiceLine:
    field = f"lines.{position}"
    kind = data.get("kind", LineKind.SERVICE)
    if kind not in LineKind.values:
        raise ValidationError(_("Unknown line kind %(kind)s; use one of %(kinds)s.") % {
            "kind": repr(kind), "kinds": ", ".join(LineKind.values)}, field=f"{field}.kind")
    description = str(data.get("description") or "").strip()
    if not description:
        raise ValidationError(_("Each line needs a description."), field=f"{field}.description")
    amount = _money(data.get("amount"), f"{field}.amount")
    if amount.currency != currency:
        raise ValidationError(_("The line's amount is in %(line)s, the invoice in %(invoice)s.") % {
            "line": amount.currency, "invoice": currency}, field=f"{field}.amount")
    quantity = data.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError(_("Quantity must be a whole number of at least 1."), field=f"{field}.quantity")
    unit = amount.amount
    if abs(unit) * quantity > MAX_AMOUNT:
        raise ValidationError(too_much_message(), field=f"{field}.amount")
    if kind == LineKind.DISCOUNT:
        unit = -abs(unit)
    elif unit < 0:
        raise ValidationError(_("Only discount lines may be negative."), field=f"{field}.amount")
    return InvoiceLine(position=position, kind=kind, description=description[:300], unit_amount=unit,
                       quantity=quantity, line_amount=unit * quantity, currency=currency)


def too_much_message() -> str:
    return _("That is more than %(max)s minor units together; split it over invoices.") % {"max": MAX_AMOUNT}


def _prepare_lines(lines: list[dict], currency: str) -> list[InvoiceLine]:
    """An invoice's lines checked one by one and together: their sum stays within MAX_AMOUNT."""
    prepared = [_prepare_line(i, line, currency) for i, line in enumerate(lines)]
    if sum(abs(line.line_amount) for line in prepared) > MAX_AMOUNT:
        raise ValidationError(too_much_message(), field="lines")
    return prepared


def _recompute_totals(invoice: Invoice) -> None:
    sums = {k: 0 for k in LineKind.values}
    for kind, amount in invoice.lines.values_list("kind", "line_amount"):
        sums[kind] += amount
    invoice.tax_amount = sums[LineKind.TAX]
    invoice.subtotal_amount = sum(v for k, v in sums.items() if k != LineKind.TAX)
    invoice.total_amount = invoice.subtotal_amount + invoice.tax_amount
    invoice.save(update_fields=["tax_amount", "subtotal_amount", "total_amount", "updated_at"])


def _lock_invoice(invoice: Invoice | Any) -> Invoice:
    pk = invoice.pk if isinstance(invoice, Invoice) else invoice
    return Invoice.objects.select_for_update().select_related("workspace", "client").get(pk=pk)


def next_number(workspace, prefix: str) -> str:
    """The next gap-free number ``PREFIX/YEAR/000123`` in the workspace's year. Call inside a transaction:
    the counter row stays locked until it commits, and a rollback returns the number."""
    year = clock.now().astimezone(workspace.tz).year
    for _attempt in range(5):
        counter = (
            DocumentCounter.objects.select_for_update().filter(workspace=workspace, prefix=prefix, year=year).first()
        )
        if counter is None:
            try:
                with transaction.atomic():
                    DocumentCounter.objects.create(workspace=workspace, prefix=prefix, year=year)
            except IntegrityError:
                pass  # another transaction created it first; lock theirs
            continue
        counter.last_value += 1
        counter.save(update_fields=["last_value"])
        return f"{prefix}/{year}/{counter.last_value:06d}"
    raise Conflict(_("Could not take a document number; please try again."))


def tax_settings_for(workspace) -> TaxSettings:
    settings_row = TaxSettings.objects.filter(workspace=workspace).first()
    return settings_row or TaxSettings(workspace=workspace)


def tax_for(workspace, base: Money) -> Money:
    ts = tax_settings_for(workspace)
    if not ts.enabled or base.amount <= 0:
        return Money.zero(base.currency)
    ratio = Fraction(ts.base_numerator, ts.base_denominator) * Fraction(ts.rate_percent) / 100
    return base.scale(ratio)


@transaction.atomic
def invoice_issue(invoice: Invoice) -> Invoice:
    """Draft -> open: adds the PPN line when the workspace charges it, and takes the next number."""
    invoice = _lock_invoice(invoice)
    if invoice.status == InvoiceStatus.OPEN:
        return invoice
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(_("Invoice %(number)s is %(status)s; only a draft can be issued.") % {
            "number": wording.invoice(invoice), "status": wording.invoice_status(invoice)})
    if not invoice.lines.filter(kind=LineKind.TAX).exists():
        tax = tax_for(invoice.workspace, invoice.subtotal)
        if tax:
            InvoiceLine.objects.create(
                invoice=invoice, position=invoice.lines.count(), kind=LineKind.TAX,
                description=TaxTerms.of(tax_settings_for(invoice.workspace)).describe(), unit_amount=tax.amount,
                quantity=1, line_amount=tax.amount, currency=invoice.currency,
            )
            _recompute_totals(invoice)
    if invoice.total_amount <= 0:
        raise ValidationError(_("An invoice must total more than zero to be issued."), field="lines")
    invoice.number = next_number(invoice.workspace, "INV")
    invoice.status = InvoiceStatus.OPEN
    invoice.issued_at = clock.now()
    invoice.save(update_fields=["number", "status", "issued_at", "updated_at"])
    audit.record(invoice, "invoice.issue", before={"status": "draft"},
                 after={"status": "open", "number": invoice.number, "total": invoice.total})
    return invoice


def invoice_void(invoice: Invoice, reason: str) -> Invoice:
    """Void an unpaid invoice and cancel its pending payments at their gateways (best effort)."""
    if not (reason or "").strip():
        raise ValidationError(_("Say why the invoice is voided."), field="reason")
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status == InvoiceStatus.VOID:
            return invoice
        if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN):
            raise Conflict(_("Invoice %(number)s is %(status)s and cannot be voided; refund its payments.") % {
                "number": wording.invoice(invoice), "status": wording.invoice_status(invoice)})
        if invoice_amounts(invoice)["paid"]:
            raise Conflict(_("Invoice %(number)s has payments; refund them before voiding.") % {
                "number": wording.invoice(invoice)})
        before = invoice.status
        invoice.status = InvoiceStatus.VOID
        invoice.voided_at = clock.now()
        invoice.void_reason = reason.strip()
        invoice.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
        audit.record(invoice, "invoice.void", before={"status": before}, after={"status": "void", "reason": reason})
    invoice_cancel_pending_payments(invoice.pk)
    return invoice


def invoice_cancel_pending_payments(invoice_id, *, keep=None) -> int:
    """Cancel, at their gateways, the payments of an invoice that is paid or void and so needs them no
    more (the client opened a VA, then paid by card). Best effort: one that was paid meanwhile is applied,
    and then refunded as an overpayment (:func:`payment_refund_overpayment`). Returns how many were asked."""
    pending = PaymentIntent.objects.filter(invoice_id=invoice_id, status__in=PENDING_STATUSES).exclude(pk=keep)
    asked = 0
    for payment_id in pending.values_list("pk", flat=True):
        asked += 1
        try:
            payment_cancel(payment_id)
        except (GatewayError, GatewayDeclined, JasaError) as exc:
            log.warning("could not cancel payment %s of invoice %s: %s", payment_id, invoice_id, exc)
    return asked


def payment_refund_overpayment(payment_id) -> Refund | None:
    """Return what a payment collected beyond its invoice (it succeeded after the invoice was paid by
    another payment, or voided). Through the gateway when it can refund the method, else as a refund owed
    by bank transfer, which staff see among the owed refunds. Idempotent: one overpayment refund per payment."""
    payment = PaymentIntent.objects.select_related("invoice").get(pk=payment_id)
    key = f"overpayment:{payment.pk}"
    existing = Refund.objects.filter(payment=payment, refund_key=key).first()
    if existing is not None:
        return existing
    if payment.status not in (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED):
        return None
    invoice = payment.invoice
    owed = Money.zero(invoice.currency) if invoice.status == InvoiceStatus.VOID else invoice.total
    excess = min(invoice_amounts(invoice)["captured"] - owed, payment.amount)
    if excess.amount <= 0:
        return None
    reason = f"Overpayment: invoice {invoice.number or invoice.pk} was already {invoice.status}"
    caps = gateway_class(payment.gateway).methods.get(Method(payment.method)) if payment.method else None
    through_gateway = caps is None or (caps.refund and (caps.partial_refund or excess == payment.amount))
    if through_gateway:
        return payment_refund(payment=payment, amount=excess, reason=reason, refund_key=key)
    with transaction.atomic():
        return refund_request_manual(payment=payment, amount=excess, reason=reason, refund_key=key)


@transaction.atomic
def invoice_mark_uncollectible(invoice: Invoice, reason: str) -> Invoice:
    """Open -> uncollectible: the business gives up collecting the rest (payments so far stay)."""
    if not (reason or "").strip():
        raise ValidationError(_("Say why the invoice is uncollectible."), field="reason")
    invoice = _lock_invoice(invoice)
    if invoice.status == InvoiceStatus.UNCOLLECTIBLE:
        return invoice
    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(_("Invoice %(number)s is %(status)s; only an open invoice can be written off.") % {
            "number": wording.invoice(invoice), "status": wording.invoice_status(invoice)})
    invoice.status = InvoiceStatus.UNCOLLECTIBLE
    invoice.void_reason = reason.strip()
    invoice.save(update_fields=["status", "void_reason", "updated_at"])
    audit.record(invoice, "invoice.uncollectible", before={"status": "open"},
                 after={"status": "uncollectible", "reason": reason})
    return invoice


def invoice_amounts(invoice: Invoice) -> dict[str, Money]:
    """Paid, refunded, charged back, fees and balance, derived from the ledger."""
    rows = dict(
        LedgerEntry.objects.filter(invoice=invoice).values_list("kind").annotate(total=Sum("amount")).order_by()
    )
    cur = invoice.currency
    captured = Money(rows.get(LedgerKind.CAPTURED, 0) or 0, cur)
    refunded = Money(rows.get(LedgerKind.REFUNDED, 0) or 0, cur)
    chargeback = Money(rows.get(LedgerKind.CHARGEBACK, 0) or 0, cur)
    paid = captured - refunded - chargeback
    balance = invoice.total - captured if invoice.status != InvoiceStatus.VOID else Money.zero(cur)
    return {
        "captured": captured, "refunded": refunded, "chargeback": chargeback, "paid": paid,
        "fees": Money(rows.get(LedgerKind.GATEWAY_FEE, 0) or 0, cur),
        "balance": balance if balance.amount > 0 else Money.zero(cur),
    }


# --- payments -------------------------------------------------------------------------------------


def payment_start(
    *,
    invoice: Invoice,
    idempotency_key: str,
    gateway: str | None = None,
    method: str | None = None,
    amount: Money | None = None,
    return_url: str = "",
    save_method: bool = False,
) -> PaymentIntent:
    """Start collecting ``amount`` (default: the balance) of an open invoice. Same key -> same payment."""
    payment = _payment_create(
        invoice=invoice, idempotency_key=idempotency_key, gateway=gateway, method=method, amount=amount,
        return_url=return_url, save_method=save_method,
    )
    return _submit_if_needed(payment)


def payment_charge_saved(*, invoice: Invoice, saved_method: SavedPaymentMethod, idempotency_key: str) -> PaymentIntent:
    """Charge a saved method off-session (renewals). Same key -> same payment, one charge."""
    # The stored row, not the caller's copy: a method the client removed since it was read is never charged.
    current = SavedPaymentMethod.objects.filter(pk=saved_method.pk).first()
    if current is None or not current.is_active:
        raise ValidationError(_("That saved payment method was removed."), field="saved_method")
    saved_method = current
    if saved_method.workspace_id != invoice.workspace_id:
        raise ValidationError(_("That saved payment method belongs to another business."), field="saved_method")
    if saved_method.client_id != invoice.client_id:
        raise ValidationError(_("That saved payment method belongs to another client."), field="saved_method")
    if not _charges_off_session(saved_method.gateway, saved_method.method):
        raise ValidationError(_("%(gateway)s cannot charge a saved %(method)s without the client.") % {
            "gateway": wording.gateway(saved_method.gateway), "method": wording.method(saved_method.method)},
            field="saved_method")
    payment = _payment_create(
        invoice=invoice, idempotency_key=idempotency_key, gateway=saved_method.gateway,
        method=saved_method.method, amount=None, return_url="", save_method=False, saved_method=saved_method,
    )
    return _submit_if_needed(payment)


def _charges_off_session(gateway: str, method: str) -> bool:
    try:
        caps = gateway_class(gateway).methods.get(Method(method))
    except (LookupError, ValueError):  # a gateway or method this jasa does not know (any more)
        return False
    return caps is not None and caps.off_session


def _submit_if_needed(payment: PaymentIntent) -> PaymentIntent:
    if payment.status == Status.CREATED and payment.submitted_at is None:
        return _submit(payment)
    return payment


def _payment_create(*, invoice, idempotency_key, gateway, method, amount, return_url, save_method,
                    saved_method: SavedPaymentMethod | None = None) -> PaymentIntent:
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise ValidationError(_("An idempotency key of 1 to 200 characters is required."), field="idempotency_key")
    existing = PaymentIntent.objects.filter(workspace_id=invoice.workspace_id, idempotency_key=key).first()
    if existing is not None:
        if existing.invoice_id != invoice.pk:
            raise Conflict(_("This idempotency key was used for another invoice."))
        return existing
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        workspace = invoice.workspace
        if invoice.status != InvoiceStatus.OPEN:
            raise Conflict(not_payable_message(invoice))
        gateway = gateway or default_gateway_name(workspace)
        adapter_cls = gateway_for(workspace, gateway).__class__  # raises if not set up
        account = account_for(workspace, gateway)
        if method is not None:
            if method not in Method._value2member_map_ or Method(method) not in adapter_cls.methods:
                raise ValidationError(_("%(gateway)s does not offer the payment method %(method)s.") % {
                    "gateway": wording.gateway(gateway), "method": wording.method(method)}, field="method")
            if account is not None and account.enabled_methods and method not in account.enabled_methods:
                raise ValidationError(_("This business does not accept %(method)s.") % {
                    "method": wording.method(method)}, field="method")
        if save_method and method is not None and not adapter_cls.methods[Method(method)].save_for_recurring:
            raise ValidationError(_("%(method)s cannot be saved for later payments.") % {
                "method": wording.method(method)}, field="save_method")
        if save_method and method is None and not any(c.save_for_recurring for c in adapter_cls.methods.values()):
            raise ValidationError(_("%(gateway)s cannot keep a payment method for later payments.") % {
                "gateway": wording.gateway(gateway)}, field="save_method")
        balance = invoice_amounts(invoice)["balance"]
        applied = balance if amount is None else _money(amount, "amount")
        if applied.currency != invoice.currency:
            raise ValidationError(_("The invoice is in %(currency)s.") % {"currency": invoice.currency}, field="amount")
        if applied.amount <= 0 or applied > balance:
            raise ValidationError(_("The amount must be more than zero and at most the balance, %(balance)s.") % {
                "balance": wording.amount(balance)}, field="amount")
        surcharge = fees.surcharge(workspace, account, method, applied)
        now = clock.now()
        payment = PaymentIntent(
            workspace=workspace, invoice=invoice, idempotency_key=key, gateway=gateway, method=method or "",
            currency=invoice.currency, applied_amount=applied.amount, surcharge_amount=surcharge.amount,
            gross_amount=(applied + surcharge).amount, return_url=return_url, save_method=save_method,
            off_session=saved_method is not None, saved_method=saved_method,
            expires_at=now + EXPIRY[_family(method or "")], status_changed_at=now,
        )
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:
            existing = PaymentIntent.objects.filter(workspace_id=invoice.workspace_id, idempotency_key=key).first()
            if existing is None:
                raise
            return existing
        audit.record(payment, "payment.create", after={
            "gateway": gateway, "method": method or "", "amount": payment.amount, "surcharge": surcharge,
        })
    return payment


def _request_for(payment: PaymentIntent) -> PaymentRequest:
    invoice = payment.invoice
    client = invoice.client
    first_line = invoice.lines.first()
    description = f"{invoice.workspace.name} {invoice.number or ''}".strip()
    if first_line is not None:
        description += f" · {first_line.description}"
    return PaymentRequest(
        reference=payment.reference, amount=payment.amount, method=Method(payment.method) if payment.method else None,
        description=description[:250], customer_name=client.name, customer_email=client.email,
        customer_phone=client.phone, return_url=payment.return_url, notification_url=notification_url(payment.gateway),
        expires_in_seconds=int((payment.expires_at - clock.now()).total_seconds()) if payment.expires_at else None,
        save_method=payment.save_method,
        metadata={"workspace": str(payment.workspace_id), "invoice": str(invoice.pk),
                  "invoice_number": invoice.number or ""},
        allowed_methods=_enabled_methods(payment),
    )


def _enabled_methods(payment: PaymentIntent) -> tuple[Method, ...]:
    """The methods the business enabled for the payment's gateway (empty: all), so that a hosted page where
    the client picks lists only those; the checks in _payment_create cover a method chosen in jasa."""
    account = account_for(payment.workspace, payment.gateway)
    enabled = account.enabled_methods if account is not None else []
    return tuple(Method(m) for m in enabled if m in Method._value2member_map_)


def _submit(payment: PaymentIntent) -> PaymentIntent:
    """Call the gateway (no transaction open, no lock held), then apply its answer under a lock."""
    payment = PaymentIntent.objects.select_related("invoice__client", "invoice__workspace", "saved_method").get(
        pk=payment.pk
    )
    adapter = gateway_for(payment.workspace, payment.gateway)
    request = _request_for(payment)
    try:
        if payment.off_session and payment.saved_method is not None:
            result = adapter.charge_saved(request, payment.saved_method.token)
        elif payment.method:
            result = adapter.create_direct(request)
        else:
            result = adapter.create_checkout(request)
    except GatewayError as exc:
        # Nothing is known: the row stays "created"; a retry with the same key or reconciliation finishes it.
        raise GatewayUnavailable(unavailable_message(exc))
    except GatewayDeclined as exc:
        return _apply_failure(payment.pk, code=exc.code or "declined", message=str(exc))
    return _apply(payment.pk, result, origin="create")


def payment_sync(payment_id) -> PaymentIntent:
    """Re-read the payment from its gateway (the source of truth) and apply what it says."""
    payment = PaymentIntent.objects.select_related("workspace").get(pk=payment_id)
    adapter = gateway_for(payment.workspace, payment.gateway)
    try:
        result = adapter.get_status(payment.reference, gateway_reference=payment.gateway_reference)
    except PaymentNotFound:
        # The create never reached the gateway. Once it cannot still be in flight, it never will be.
        if payment.status == Status.CREATED and clock.now() - payment.created_at > CREATE_GRACE:
            return _apply_failure(payment.pk, code="not_submitted", message=gettext_noop("The gateway never received this payment."),
                                  status=Status.EXPIRED if _is_expired(payment) else Status.FAILED)
        return payment
    except GatewayError as exc:
        raise GatewayUnavailable(unavailable_message(exc))
    if result.status in PENDING_STATUSES and _is_expired(payment):
        # Past its time: cancel at the gateway first, so the client cannot pay it after we give up.
        try:
            result = adapter.cancel(payment.reference, gateway_reference=payment.gateway_reference)
        except GatewayDeclined:
            # Not cancellable (already moving on?): the gateway's current word decides.
            result = adapter.get_status(payment.reference, gateway_reference=payment.gateway_reference)
        except GatewayError as exc:
            raise GatewayUnavailable(unavailable_message(exc))
        if result.status in PENDING_STATUSES or result.status == Status.CANCELED:
            result = dataclasses.replace(result, status=Status.EXPIRED)
    return _apply(payment.pk, result, origin="sync")


def payment_cancel(payment_id) -> PaymentIntent:
    """Cancel a pending payment at the gateway and apply the answer (it may have been paid meanwhile)."""
    payment = PaymentIntent.objects.select_related("workspace").get(pk=payment_id)
    if not payment.is_pending:
        return payment
    adapter = gateway_for(payment.workspace, payment.gateway)
    try:
        result = adapter.cancel(payment.reference, gateway_reference=payment.gateway_reference)
    except PaymentNotFound:
        return _apply_failure(payment.pk, code="canceled", message=gettext_noop("Canceled before it reached the gateway."),
                              status=Status.CANCELED)
    return _apply(payment.pk, result, origin="cancel")


def not_payable_message(invoice: Invoice) -> str:
    return _("Invoice %(number)s is %(status)s; only an open invoice can be paid.") % {
        "number": wording.invoice(invoice), "status": wording.invoice_status(invoice)}


def unavailable_message(exc: GatewayError, *, refund: bool = False) -> str:
    """The gateway did not answer; ``exc`` says how (a technical detail, as the gateway gave it)."""
    if refund:
        return _("The payment gateway did not answer (%(error)s); the refund is pending, please retry it.") % {
            "error": exc}
    return _("The payment gateway did not answer (%(error)s); please try again in a moment.") % {"error": exc}


def _is_expired(payment: PaymentIntent) -> bool:
    return payment.expires_at is not None and clock.now() >= payment.expires_at


class _Events:
    """Signals to send once the transaction commits (so receivers see committed rows)."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, dict[str, Any]]] = []

    def add(self, signal, **kwargs) -> None:
        self.items.append((signal, kwargs))

    def send_on_commit(self) -> None:
        items = list(self.items)
        if items:
            transaction.on_commit(lambda: _send_all(items))


def _send_all(items: Iterable[tuple[Any, dict[str, Any]]]) -> None:
    for signal, kwargs in items:
        for receiver, response in signal.send_robust(sender=PaymentIntent, **kwargs):
            if isinstance(response, Exception):
                log.error("receiver %s of %s failed: %r", receiver, signal, response, exc_info=response)


def _apply_failure(payment_id, *, code: str, message: str, status: str = Status.FAILED) -> PaymentIntent:
    with transaction.atomic():
        payment = PaymentIntent.objects.select_for_update().get(pk=payment_id)
        if not can_transition(payment.status, status):
            return payment
        payment.failure_code = code[:100]
        payment.failure_message = message[:500]
        payment.submitted_at = payment.submitted_at or clock.now()
        events = _Events()
        _move(payment, status, events, ref=payment.gateway_reference or payment.reference)
        payment.save()
        events.send_on_commit()
    return payment


def _apply(payment_id, result: GatewayPayment, *, origin: str) -> PaymentIntent:
    """Apply a gateway's answer under the payment's row lock. Forward only; idempotent; signals once."""
    events = _Events()
    with transaction.atomic():
        payment = PaymentIntent.objects.select_for_update().get(pk=payment_id)
        now = clock.now()
        payment.last_synced_at = now
        payment.submitted_at = payment.submitted_at or now
        if result.gateway_reference and not payment.gateway_reference:
            payment.gateway_reference = result.gateway_reference[:200]
        if result.method and not payment.method:
            payment.method = result.method.value
        if result.next_action is not None and payment.is_pending:
            payment.next_action = dataclasses.asdict(result.next_action)
            if result.next_action.kind == "redirect" and result.next_action.url:
                payment.checkout_url = result.next_action.url
        if result.status in PAID_STATUSES and payment.status in (*PENDING_STATUSES, *PAID_STATUSES):
            # paid: a step on the way (3-D Secure asked for, a first card declined on the page) is no failure
            payment.failure_code = payment.failure_message = ""
        elif result.failure_code or result.failure_message:
            payment.failure_code = result.failure_code[:100]
            payment.failure_message = result.failure_message[:500]
        ref = payment.gateway_reference or payment.reference
        target = result.status
        if target in PAID_STATUSES and payment.status in PENDING_STATUSES:
            _move(payment, Status.SUCCEEDED, events, ref=ref, result=result)
        if result.failed_refunds:
            _fail_gateway_refunds(payment, result.failed_refunds)
        if target in (Status.REFUNDED, Status.PARTIALLY_REFUNDED) and result.refunded:
            _record_gateway_refunds(payment, result.refunded, events)
        elif target == Status.DISPUTED and can_transition(payment.status, Status.DISPUTED):
            _move(payment, Status.DISPUTED, events, ref=ref, result=result)
        elif target in PENDING_STATUSES or target in (Status.FAILED, Status.CANCELED, Status.EXPIRED):
            if can_transition(payment.status, target):
                _move(payment, target, events, ref=ref, result=result)
        _record_hold_and_settlement(payment, result, ref)
        payment.save()
        events.send_on_commit()
    if origin != "create" or payment.status not in PENDING_STATUSES:
        log.debug("payment %s %s -> %s (%s)", payment.pk, origin, payment.status, target)
    return payment


def _move(payment: PaymentIntent, new: str, events: _Events, *, ref: str,
          result: GatewayPayment | None = None) -> None:
    old = payment.status
    if not payment.transition(new):
        return
    entry = _ledger_factory(payment)
    if new == Status.SUCCEEDED:
        captured = result.captured if result is not None and result.captured else payment.amount
        entry(LedgerKind.CAPTURED, ref, captured)
        fee = result.fee if result is not None and result.fee is not None else fees.fee_for(
            payment.workspace, payment.gateway, payment.method, captured)
        if fee:
            entry(LedgerKind.GATEWAY_FEE, ref, fee)
        payment.fee_amount = fee.amount  # what ledger_problems holds the gateway_fee entries to
        if result is not None and result.saved_method is not None and payment.save_method:
            _save_method(payment, result)
        _after_capture(payment, events)
        _warn_if_method_not_enabled(payment, result)
    elif new in (Status.FAILED, Status.CANCELED, Status.EXPIRED):
        entry(LedgerKind.FAILED, ref, Money.zero(payment.currency))
        events.add(signals.payment_failed, payment=payment)
    elif new == Status.DISPUTED:
        net = _net_captured(payment)
        if net:
            entry(LedgerKind.CHARGEBACK, ref, net)
    audit.record(payment, f"payment.{new}", before={"status": old}, after={"status": new})
    events.add(signals.payment_status_changed, payment=payment, old=old, new=new)


def _warn_if_method_not_enabled(payment: PaymentIntent, result: GatewayPayment | None) -> None:
    """The gateway collected the money by a method the business has not enabled (its hosted page offered it
    anyway, or the settings changed while the client paid). The money is kept: it was paid, and the receipt
    stands. Staff see the warning in the payment's timeline (the audit trail) and the log."""
    used = result.method.value if result is not None and result.method is not None else payment.method
    enabled = [m.value for m in _enabled_methods(payment)]
    if not used or not enabled or used in enabled:
        return
    log.warning("payment %s was paid by %s, which %s is not enabled for (enabled: %s)",
                payment.pk, used, payment.gateway, ", ".join(enabled))
    audit.record(payment, "payment.method_not_enabled", after={
        "method": used, "enabled": enabled,
        "warning": f"Paid by {used}, which is not enabled for {payment.gateway}; the money was collected and is kept.",
    })


def _record_hold_and_settlement(payment: PaymentIntent, result: GatewayPayment, ref: str) -> None:
    """The gateway's facts beside the status, each recorded once (same key as the capture): it holds the money
    of a payment not captured yet (``authorized``, e.g. a pre-authorised card), and the captured money settled
    into the business's balance (``settled``, the captured amount). A settlement reported with the payment
    itself (a VA paid: Midtrans pending -> settlement) writes captured and settled together. Neither counts
    toward what an invoice is paid: that is captured, refunded and charged back only (invoice_amounts)."""
    entry = _ledger_factory(payment)
    if result.authorized and payment.status in PENDING_STATUSES:
        entry(LedgerKind.AUTHORIZED, ref, result.amount)
    if result.settled and payment.status in PAID_STATUSES:
        captured = payment.ledger.filter(kind=LedgerKind.CAPTURED).aggregate(t=Sum("amount"))["t"] or 0
        if captured:
            entry(LedgerKind.SETTLED, ref, Money(captured, payment.currency))


def _ledger_factory(payment: PaymentIntent) -> Callable[[str, str, Money], bool]:
    def entry(kind: str, key: str, amount: Money) -> bool:
        """Append once by (payment, kind, key); True if this call added it."""
        try:
            with transaction.atomic():
                LedgerEntry.objects.create(
                    workspace_id=payment.workspace_id, payment=payment, invoice_id=payment.invoice_id, kind=kind,
                    key=key[:200], amount=amount.amount, currency=amount.currency, method=payment.method,
                    gateway=payment.gateway,
                )
            return True
        except IntegrityError:
            return False

    return entry


def _net_captured(payment: PaymentIntent) -> Money:
    rows = dict(payment.ledger.values_list("kind").annotate(total=Sum("amount")).order_by())
    return Money((rows.get(LedgerKind.CAPTURED) or 0) - (rows.get(LedgerKind.REFUNDED) or 0)
                 - (rows.get(LedgerKind.CHARGEBACK) or 0), payment.currency)


def _save_method(payment: PaymentIntent, result: GatewayPayment) -> None:
    assert result.saved_method is not None
    # the client agreed when they started this payment with "save this card" ticked
    saved_method_record(workspace_id=payment.workspace_id, gateway=payment.gateway, client=payment.invoice.client,
                        token=result.saved_method, consent_at=payment.created_at)


def saved_method_record(*, workspace_id, gateway: str, client, token: SavedMethodToken,
                        consent_at: dt.datetime) -> SavedPaymentMethod:
    """Keep a token the gateway issued (once per token, audited) with when the client consented.
    Call inside the transaction that applies the gateway's answer (a payment's or a setup's)."""
    saved, created = SavedPaymentMethod.objects.get_or_create(
        workspace_id=workspace_id, gateway=gateway, token=token.token,
        defaults={
            "client": client, "method": token.method.value, "brand": token.brand, "masked": token.masked,
            "expiry_month": token.expiry_month, "expiry_year": token.expiry_year, "consent_at": consent_at,
        },
    )
    if created:
        audit.record(saved, "saved_method.create", after={"method": saved.method, "masked": saved.masked})
    return saved


def _after_capture(payment: PaymentIntent, events: _Events) -> None:
    """The payment just succeeded: surcharge line, receipt, and the invoice's paid status."""
    invoice = _lock_invoice(payment.invoice_id)
    if payment.surcharge_amount:
        InvoiceLine.objects.create(
            invoice=invoice, position=invoice.lines.count(), kind=LineKind.SURCHARGE,
            description=f"Biaya layanan / surcharge ({payment.method})", unit_amount=payment.surcharge_amount,
            quantity=1, line_amount=payment.surcharge_amount, currency=payment.currency, payment=payment,
        )
        _recompute_totals(invoice)
    receipt = Receipt.objects.create(
        workspace_id=payment.workspace_id, payment=payment, invoice=invoice,
        number=next_number(invoice.workspace, "KWT"), receipt_amount=payment.gross_amount, currency=payment.currency,
    )
    audit.record(receipt, "receipt.issue", after={"number": receipt.number, "amount": receipt.amount})
    transaction.on_commit(lambda: _enqueue_receipt_email(receipt.pk))
    captured = invoice_amounts(invoice)["captured"]
    # Writing a debt off does not refuse the money: a payment started before the write-off that arrives
    # after it pays the invoice like any other (uncollectible -> paid).
    if invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE) and captured >= invoice.total:
        before = invoice.status
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = clock.now()
        invoice.save(update_fields=["status", "paid_at", "updated_at"])
        audit.record(invoice, "invoice.paid", before={"status": before}, after={"status": "paid"})
        events.add(signals.invoice_paid, invoice=invoice, payment=payment)
        transaction.on_commit(lambda: _enqueue("invoice_cancel_pending_task", invoice.pk, payment.pk))
    if captured > invoice.total or invoice.status == InvoiceStatus.VOID:  # paid twice, or after voiding
        transaction.on_commit(lambda: _enqueue("overpayment_refund_task", payment.pk))


def _enqueue(task_name: str, *args) -> None:
    """Queue a follow-up task after commit; a failed push is logged (the task's work is idempotent and
    also reachable from the staff screens)."""
    from jasa.payments import tasks

    try:
        getattr(tasks, task_name)(*args)
    except Exception:  # noqa: BLE001
        log.exception("could not enqueue %s%s", task_name, args)


def _enqueue_receipt_email(receipt_id) -> None:
    from jasa.payments.tasks import receipt_email

    try:
        receipt_email(str(receipt_id))
    except Exception:  # noqa: BLE001 - a queue hiccup must not undo a payment; receipts can be resent
        log.exception("could not enqueue the receipt email for %s", receipt_id)


# --- refunds --------------------------------------------------------------------------------------


def payment_refund(*, payment: PaymentIntent, amount: Money, reason: str, refund_key: str | None = None) -> Refund:
    """Refund part or all of a succeeded payment. The refund key goes to the gateway, so a retry is one refund."""
    if not (reason or "").strip():
        raise ValidationError(_("Give a reason for the refund."), field="reason")
    amount = _money(amount, "amount")
    with transaction.atomic():
        payment = PaymentIntent.objects.select_for_update().select_related("workspace").get(pk=payment.pk)
        key = refund_key or f"{payment.reference}:refund:{payment.refunds.count() + 1}"
        existing = Refund.objects.filter(payment=payment, refund_key=key).first()
        if existing is not None:
            return existing
        _check_refundable(payment, amount)
        caps = gateway_class(payment.gateway).methods.get(Method(payment.method)) if payment.method else None
        if caps is not None and not caps.refund:
            raise ValidationError(_("%(method)s payments cannot be refunded through %(gateway)s; return the money "
                                    "by bank transfer.") % {"method": wording.method(payment.method),
                                                            "gateway": wording.gateway(payment.gateway)},
                                  field="amount", code="refund_unsupported")
        if caps is not None and not caps.partial_refund and amount != payment.amount:
            raise ValidationError(_("%(method)s payments can only be refunded in full (%(amount)s).") % {
                "method": wording.method(payment.method), "amount": wording.amount(payment.amount)},
                field="amount", code="partial_refund_unsupported")
        actor = audit.current_actor()
        refund = Refund.objects.create(
            workspace_id=payment.workspace_id, payment=payment, refund_key=key, refund_amount=amount.amount,
            currency=amount.currency, reason=reason.strip(), requested_by=actor.label,
        )
        audit.record(refund, "refund.request", after={"amount": amount, "reason": reason, "payment": str(payment.pk)})
    # The gateway call happens outside the lock; the key makes a retry of this block safe.
    adapter = gateway_for(payment.workspace, payment.gateway)
    try:
        result = adapter.refund(payment.reference, amount, refund_key=key, reason=reason,
                                gateway_reference=payment.gateway_reference)
    except GatewayDeclined as exc:
        _refund_finish(refund.pk, status=RefundStatus.FAILED, message=str(exc))
        raise ValidationError(_("The gateway refused the refund: %(reason)s") % {"reason": wording.gateway_reason(str(exc))},
                              field="amount", code="refund_declined")
    except GatewayError as exc:
        raise GatewayUnavailable(unavailable_message(exc, refund=True))
    return _refund_finish(refund.pk, status=result.status, message=result.failure_message,
                          gateway_reference=result.gateway_reference)


def _check_refundable(payment: PaymentIntent, amount: Money, *, besides: Refund | None = None) -> None:
    """The payment (locked) may be refunded ``amount``: succeeded, same currency, at most what is not yet
    refunded, being refunded or owed. ``besides``: an owed refund that this amount replaces."""
    if payment.status not in (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED):
        raise Conflict(_("Only a succeeded payment can be refunded; this one is %(status)s.") % {
            "status": wording.payment_status(payment.status)})
    reserved_rows = payment.refunds.filter(status__in=[RefundStatus.PENDING, RefundStatus.SUCCEEDED])
    if besides is not None:
        reserved_rows = reserved_rows.exclude(pk=besides.pk)
    reserved = Money(reserved_rows.aggregate(t=Sum("refund_amount"))["t"] or 0, payment.currency)
    refundable = payment.amount - reserved
    if amount.currency != payment.currency or amount.amount <= 0 or amount > refundable:
        raise ValidationError(_("The refund must be more than zero and at most %(amount)s.") % {
            "amount": wording.amount(refundable)}, field="amount")


def _refund_finish(refund_id, *, status: str, message: str = "", gateway_reference: str = "") -> Refund:
    events = _Events()
    with transaction.atomic():
        refund = Refund.objects.select_related("payment").get(pk=refund_id)
        payment = PaymentIntent.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.PENDING:
            return refund
        refund.status = status if status in RefundStatus.values else RefundStatus.PENDING
        refund.failure_message = message[:500]
        refund.gateway_reference = gateway_reference[:200]
        refund.save()
        if refund.status == RefundStatus.SUCCEEDED:
            _refund_succeeded(payment, refund, events)
            payment.save()
        audit.record(refund, f"refund.{refund.status}", after={"amount": refund.amount})
        events.send_on_commit()
    return refund


# --- refunds by bank transfer ------------------------------------------------------------------
# VA and convenience-store payments cannot be refunded through the gateway (Midtrans, Xendit): the
# business transfers the money from its bank account. jasa keeps that visible as an owed refund
# (a pending bank_transfer Refund holding the client's account) until staff record the transfer.

ACCOUNT_NUMBER = re.compile(r"^[0-9]{5,20}$")


@transaction.atomic
def refund_request_manual(*, payment: PaymentIntent, amount: Money, reason: str,
                          refund_key: str | None = None) -> Refund:
    """Record that ``amount`` is owed to the client by bank transfer (the gateway cannot refund it)."""
    if not (reason or "").strip():
        raise ValidationError(_("Give a reason for the refund."), field="reason")
    amount = _money(amount, "amount")
    payment = PaymentIntent.objects.select_for_update().get(pk=payment.pk)
    key = refund_key or f"{payment.reference}:transfer:{payment.refunds.count() + 1}"
    existing = Refund.objects.filter(payment=payment, refund_key=key).first()
    if existing is not None:
        return existing
    _check_refundable(payment, amount)
    refund = Refund.objects.create(
        workspace_id=payment.workspace_id, payment=payment, refund_key=key, refund_amount=amount.amount,
        currency=amount.currency, reason=reason.strip(), requested_by=audit.current_actor().label,
        channel=RefundChannel.BANK_TRANSFER,
    )
    audit.record(refund, "refund.owed", after={"amount": amount, "reason": reason, "payment": str(payment.pk)})
    transaction.on_commit(lambda: _send_all([(signals.refund_owed, {"refund": refund})]))  # services_refund_notice
    return refund


@transaction.atomic
def refund_set_account(*, refund: Refund, bank_name: str, account_number: str, account_holder: str) -> Refund:
    """Store the bank account the client wants an owed refund paid to (a bank account, never card data)."""
    bank_name, account_holder = (bank_name or "").strip(), " ".join((account_holder or "").split())
    number = re.sub(r"[\s.-]", "", account_number or "")
    if not bank_name or len(bank_name) > 60:
        raise ValidationError(_("Give the bank's name (at most 60 characters)."), field="bank_name")
    if not ACCOUNT_NUMBER.match(number):
        raise ValidationError(_("An account number is 5 to 20 digits."), field="account_number")
    if not account_holder or len(account_holder) > 100:
        raise ValidationError(_("Give the account holder's name as the bank knows it."), field="account_holder")
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if not refund.is_owed:
        raise Conflict(_("This refund is not waiting for a bank transfer."))
    before = {"bank_name": refund.bank_name, "account_number": refund.account_number[-4:]}
    refund.bank_name, refund.account_number, refund.account_holder = bank_name, number, account_holder
    refund.save(update_fields=["bank_name", "account_number", "account_holder", "updated_at"])
    audit.record(refund, "refund.account", before=before,
                 after={"bank_name": bank_name, "account_number": number[-4:]})
    return refund


def refund_record_manual(*, payment: PaymentIntent, amount: Money, reason: str, transfer_reference: str,
                         refund_key: str | None = None) -> Refund:
    """Record a refund the business paid by bank transfer outside the gateway (any method).

    ``refund_key`` of an owed refund settles that one (its amount may change to what was sent);
    a key already recorded returns that refund (idempotent). The ledger, the payment's status, the
    audit and ``payment_refunded`` follow the same path as a gateway refund.
    """
    if not (reason or "").strip():
        raise ValidationError(_("Give a reason for the refund."), field="reason")
    transfer_reference = (transfer_reference or "").strip()
    if not transfer_reference or len(transfer_reference) > 100:
        raise ValidationError(_("Give the bank transfer's reference (at most 100 characters)."),
                              field="transfer_reference")
    amount = _money(amount, "amount")
    with transaction.atomic():
        payment = PaymentIntent.objects.select_for_update().get(pk=payment.pk)
        key = refund_key or f"{payment.reference}:transfer:{payment.refunds.count() + 1}"
        refund = Refund.objects.filter(payment=payment, refund_key=key).first()
        if refund is not None and not refund.is_owed:
            return refund
        _check_refundable(payment, amount, besides=refund)
        if refund is None:
            refund = Refund(workspace_id=payment.workspace_id, payment=payment, refund_key=key,
                            channel=RefundChannel.BANK_TRANSFER, requested_by=audit.current_actor().label)
        refund.refund_amount, refund.currency = amount.amount, amount.currency
        refund.reason, refund.transfer_reference = reason.strip(), transfer_reference
        refund.save()
        refund = _refund_finish(refund.pk, status=RefundStatus.SUCCEEDED)
        transaction.on_commit(lambda: _enqueue_refund_email(refund.pk))
    return refund


def _enqueue_refund_email(refund_id) -> None:
    from jasa.payments.tasks import refund_receipt_email

    try:
        refund_receipt_email(str(refund_id))
    except Exception:  # noqa: BLE001 - the refund is recorded; the email can be resent
        log.exception("could not enqueue the refund email for %s", refund_id)


def _fail_gateway_refunds(payment: PaymentIntent, failed: Mapping[str, str]) -> None:
    """The gateway reports refunds of ours (by refund key) as failed or canceled after answering them pending:
    record that, apply nothing, and so free their amount for another refund. One already finished stays."""
    for refund in payment.refunds.select_for_update().filter(
        status=RefundStatus.PENDING, channel=RefundChannel.GATEWAY, refund_key__in=list(failed),
    ):
        refund.status = RefundStatus.FAILED
        refund.failure_message = failed[refund.refund_key][:500]
        refund.save(update_fields=["status", "failure_message", "updated_at"])
        audit.record(refund, "refund.failed", after={"amount": refund.amount, "reason": refund.failure_message})


def _refund_succeeded(payment: PaymentIntent, refund: Refund, events: _Events) -> None:
    added = _ledger_factory(payment)(LedgerKind.REFUNDED, f"refund:{refund.pk}", refund.amount)
    if not added:
        return
    net = _net_captured(payment)
    new = Status.REFUNDED if net.amount <= 0 else Status.PARTIALLY_REFUNDED
    if can_transition(payment.status, new):
        _move(payment, new, events, ref=f"refund:{refund.pk}")
    events.add(signals.payment_refunded, payment=payment, refund=refund)


def _record_gateway_refunds(payment: PaymentIntent, refunded: Money, events: _Events) -> None:
    """The gateway reports ``refunded`` in total: finish our pending refunds it covers, and record any
    refund made in the gateway's own dashboard that jasa does not know of yet."""
    done = Money(payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(t=Sum("refund_amount"))["t"] or 0,
                 payment.currency)
    ours = payment.refunds.filter(status=RefundStatus.PENDING, channel=RefundChannel.GATEWAY)
    for refund in ours.order_by("created_at"):
        if done + refund.amount > refunded:
            break
        refund.status = RefundStatus.SUCCEEDED
        refund.save(update_fields=["status", "updated_at"])
        _refund_succeeded(payment, refund, events)
        done = done + refund.amount
    if ours.exists():
        return  # the gateway has not caught up with our own requests yet
    missing = refunded - done
    if missing.amount <= 0:
        return
    refund = Refund.objects.create(
        workspace_id=payment.workspace_id, payment=payment, refund_key=f"gateway:{refunded.amount}",
        refund_amount=missing.amount, currency=missing.currency, status=RefundStatus.SUCCEEDED,
        reason="Refunded at the gateway", requested_by=f"gateway:{payment.gateway}",
    )
    _refund_succeeded(payment, refund, events)


# --- webhooks -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReceivedWebhook:
    """What :func:`webhook_receive` did: the stored row's id, or ``duplicate`` (stored before; not re-read,
    so that a gateway's retry storm costs one statement per delivery)."""

    pk: int | None
    duplicate: bool


def webhook_receive(gateway_name: str, headers: dict[str, str], body: bytes, *, account_id: str = "") -> ReceivedWebhook:
    """Verify, store once by (gateway, event id), and queue the re-read. Raises WebhookRejected or LookupError.

    ``account_id`` (from ``/webhooks/<gateway>/<account>``) verifies with that account's credentials only.
    This is the hot path of bench/webhooks.py: one statement, no model instance on PostgreSQL.
    """
    from jasa.payments.connect import webhook_verifiers

    rejection: WebhookRejected | None = None
    for adapter in webhook_verifiers(gateway_name, account_id):
        try:
            event = adapter.parse_webhook(headers, body)
            break
        except WebhookRejected as exc:
            rejection = exc
    else:
        raise rejection or WebhookRejected("no verifier")
    if not event.event_id:
        raise WebhookRejected("the event has no id")
    pk = _store_once(dict(
        gateway=gateway_name, event_id=event.event_id[:200], reference=event.reference[:200], kind=event.kind[:100],
        claimed_status=event.claimed_status[:60], payload=dict(event.payload), received_at=clock.now(),
    ))
    if pk is None:
        return ReceivedWebhook(pk=None, duplicate=True)
    if not inbox.pump_alive():  # else the insert's notification reaches the pump (jasa/payments/inbox.py)
        transaction.on_commit(lambda: _enqueue_webhook(pk))
    return ReceivedWebhook(pk=pk, duplicate=False)


# One statement: store the event unless known, announce it to the webhook pump (delivered on commit),
# and skip the wait for the WAL flush. The notification is harmless when no pump listens.
_PG_INSERT_EVENT = f"""
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
stored AS (
    INSERT INTO payments_webhookevent
        (gateway, event_id, reference, kind, claimed_status, payload, state, attempts, error, received_at)
    SELECT %s, %s, %s, %s, %s, %s::jsonb, %s, 0, '', %s FROM async_commit
    ON CONFLICT (gateway, event_id) DO NOTHING
    RETURNING id
)
SELECT id, pg_notify('{inbox.CHANNEL}', id::text) FROM stored
"""


def _store_once(fields: dict[str, Any]) -> int | None:
    """Insert the event unless (gateway, event_id) is stored; its id if this call stored it.

    On PostgreSQL it is one round trip that does not wait for the WAL flush (~8 ms of fsync) before
    answering: a database crash can lose the last fraction of a second of stored events, which is
    safe because a webhook is a trigger, not the truth (reconciliation re-reads every payment left
    pending). See docs/adr/0007-webhook-ingestion-async-commit.md.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_INSERT_EVENT, [
                fields["gateway"], fields["event_id"], fields["reference"], fields["kind"], fields["claimed_status"],
                json.dumps(fields["payload"], cls=DjangoJSONEncoder), WebhookEvent.RECEIVED, fields["received_at"],
            ])
            found = cursor.fetchone()
        return None if found is None else int(found[0])
    row = WebhookEvent(**fields)
    try:
        with transaction.atomic():  # a savepoint inside a caller's transaction: a duplicate breaks nothing
            row.save()
    except IntegrityError:
        return None
    return row.pk


def _enqueue_webhook(event_pk: int) -> None:
    from jasa.payments.tasks import webhook_process_task

    try:
        webhook_process_task(event_pk)
    except Exception:  # noqa: BLE001 - the stored row is the truth; reconciliation picks it up
        log.exception("could not enqueue webhook event %s; reconciliation will process it", event_pk)


def webhook_process(event_pk: int) -> WebhookEvent:
    """Re-read the payment a stored event points at and apply it. Safe to run any number of times."""
    from jasa.payments.selectors import setup_for_reference
    from jasa.payments.services_setup import saved_method_setup_sync  # it builds on this module

    event = WebhookEvent.objects.get(pk=event_pk)
    if event.state in (WebhookEvent.PROCESSED, WebhookEvent.IGNORED):
        return event
    payment = _payment_for_reference(event.reference)
    # a gateway notifies about saving a card without a payment (a setup) the same way, by its reference
    setup = setup_for_reference(event.reference) if payment is None else None
    target = payment or setup
    event.attempts += 1
    if target is None:
        event.state = WebhookEvent.IGNORED
        event.error = "no payment with this reference"
    else:
        event.payment = payment
        event.workspace_id = target.workspace_id
        try:
            if payment is not None:
                payment_sync(payment.pk)
            elif setup is not None:
                saved_method_setup_sync(setup.pk)
        except (GatewayError, GatewayDeclined, GatewayUnavailable) as exc:
            event.state = WebhookEvent.FAILED
            event.error = str(exc)[:1000]
            event.save(update_fields=["state", "error", "attempts", "payment", "workspace"])
            raise
        event.error = _claim_not_shown(event, payment) if payment is not None else ""
        event.state = WebhookEvent.RECEIVED if event.error else WebhookEvent.PROCESSED
    event.processed_at = clock.now()
    event.save(update_fields=["state", "error", "attempts", "payment", "workspace", "processed_at"])
    return event


def _claim_not_shown(event: WebhookEvent, payment: PaymentIntent) -> str:
    """Why the event stays ``received``: it announces a status the payment can still move forward to, but
    the re-read did not show it (a gateway's status API may lag behind its notifications). The claim is
    not applied, only asked about again: reconciliation re-processes received events (a chargeback or a
    refund made in the gateway's dashboard reaches jasa by no other path). Adapters that can read their
    claims have ``status_of_claim`` (gateways.base.ReadsClaims)."""
    read = getattr(gateway_class(event.gateway), "status_of_claim", None)
    claimed = read(event.claimed_status) if read is not None and event.claimed_status else None
    status = PaymentIntent.objects.values_list("status", flat=True).get(pk=payment.pk)
    if claimed is None or not can_reach(status, claimed):
        return ""
    return f"The notification says {claimed}; the gateway's status API still says {status}. Asked again later."


def webhook_process_many(event_pks: Iterable[int]) -> list[str]:
    """Process each event; if any failed, raise the last failure after trying all of them, so the
    queue retries the batch (the events already processed return at once)."""
    states: list[str] = []
    failure: Exception | None = None
    for pk in event_pks:
        try:
            states.append(webhook_process(pk).state)
        except (GatewayError, GatewayDeclined, GatewayUnavailable) as exc:
            failure = exc
            states.append(WebhookEvent.FAILED)
    if failure is not None:
        raise failure
    return states


def _payment_for_reference(reference: str) -> PaymentIntent | None:
    try:
        pk = uuid.UUID(reference)
    except (ValueError, TypeError, AttributeError):
        return None
    return PaymentIntent.objects.filter(pk=pk).first()


# --- reconciliation -------------------------------------------------------------------------------


def _not_asked_since(at: dt.datetime) -> Q:
    return Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=at)


def _due_for_sync(now: dt.datetime) -> Q:
    """Pending payments reconciliation should ask their gateway about now: past their method's expected
    time since the last status change *and* not asked within that time (a long-lived VA is asked once an
    hour, not every run), past their expiry (to expire them), or never submitted (a create that died).
    A query, so that young payments never take a place in a run's batch."""
    due = Q(expires_at__lte=now) | (Q(submitted_at__isnull=True) & _not_asked_since(now - CREATE_GRACE))
    for family, wait in EXPECTED.items():
        methods = [""] if family == "hosted" else [m.value for m in Method if m.family == family]
        due |= Q(method__in=methods, status_changed_at__lte=now - wait) & _not_asked_since(now - wait)
    return Q(status__in=PENDING_STATUSES, status_changed_at__lt=now - CREATE_GRACE) & due


def resync_each(model, ids: list, sync: Callable, now: dt.datetime, counts: dict[str, int]) -> Iterator[tuple[Any, Any]]:
    """Re-read each row of a reconciliation batch from its gateway, yielding (id, what sync returned).

    The batch is stamped as asked (``last_synced_at``) before asking: a row whose gateway does not answer
    goes to the back of the line instead of taking a place in every run. A gateway error is counted in
    ``counts["errors"]`` and logged, never raised, so one failing row does not stop the others."""
    model.objects.filter(pk__in=ids).update(last_synced_at=now)
    for pk in ids:
        counts["checked"] += 1
        try:
            after = sync(pk)
        except (GatewayError, GatewayDeclined, JasaError) as exc:
            counts["errors"] += 1
            log.warning("reconcile: %s %s: %s", model._meta.model_name, pk, exc)
            continue
        yield pk, after


def payments_reconcile(limit: int = 500) -> dict[str, int]:
    """Re-sync payments that have not moved within their method's expected time (and expire the
    overdue), and process stored webhooks whose queue task was lost. Run periodically.

    Each run takes the ``limit`` due payments asked least recently (``last_synced_at``), so more than
    ``limit`` long-lived VA or store payments take turns instead of starving the newer ones."""
    now = clock.now()
    counts = {"checked": 0, "changed": 0, "errors": 0, "webhooks": 0}
    batch = list(
        PaymentIntent.objects.filter(_due_for_sync(now))
        .order_by(F("last_synced_at").asc(nulls_first=True), "status_changed_at", "pk")
        .values_list("pk", "status")[:limit]
    )
    before = dict(batch)
    for payment_id, after in resync_each(PaymentIntent, list(before), payment_sync, now, counts):
        counts["changed"] += after.status != before[payment_id]
    stale = WebhookEvent.objects.filter(
        state__in=[WebhookEvent.RECEIVED, WebhookEvent.FAILED], received_at__lt=now - dt.timedelta(minutes=1),
        attempts__lt=10,
    ).values_list("pk", flat=True)[:limit]
    for pk in stale:
        counts["webhooks"] += 1
        try:
            webhook_process(pk)
        except (GatewayError, GatewayDeclined, GatewayUnavailable) as exc:
            counts["errors"] += 1
            log.warning("reconcile: webhook %s: %s", pk, exc)
    return counts


# --- saved methods --------------------------------------------------------------------------------


@transaction.atomic
def saved_method_remove(saved_method: SavedPaymentMethod) -> SavedPaymentMethod:
    saved = SavedPaymentMethod.objects.select_for_update().get(pk=saved_method.pk)
    if saved.is_active:
        saved.is_active = False
        saved.removed_at = clock.now()
        saved.save(update_fields=["is_active", "removed_at", "updated_at"])
        audit.record(saved, "saved_method.remove", before={"active": True}, after={"active": False})
    return saved


# --- the loud check -------------------------------------------------------------------------------


def ledger_problems(invoice: Invoice) -> list[str]:
    """Every disagreement between the invoice's stored totals, its payments and the ledger."""
    invoice = Invoice.objects.get(pk=invoice.pk)  # the stored state, not a caller's stale copy
    problems: list[str] = []
    label = str(invoice)
    lines = list(invoice.lines.all())
    if sum(line.line_amount for line in lines) != invoice.total_amount:
        problems.append(f"{label}: total {invoice.total_amount} != sum of lines")
    if sum(line.line_amount for line in lines if line.kind == LineKind.TAX) != invoice.tax_amount:
        problems.append(f"{label}: tax {invoice.tax_amount} != sum of tax lines")
    amounts = invoice_amounts(invoice)
    if invoice.status == InvoiceStatus.PAID and amounts["captured"] < invoice.total:
        problems.append(f"{label}: paid but the ledger captured only {amounts['captured'].amount}")
    if invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE) and amounts["captured"] >= invoice.total:
        problems.append(f"{label}: {invoice.status} but the ledger captured {amounts['captured'].amount} "
                        f"of {invoice.total_amount}")
    for payment in invoice.payments.all():
        rows = dict(payment.ledger.values_list("kind").annotate(total=Sum("amount")).order_by())
        captured = rows.get(LedgerKind.CAPTURED) or 0
        refunded = rows.get(LedgerKind.REFUNDED) or 0
        expected_captured = payment.gross_amount if payment.status in PAID_STATUSES else 0
        if captured != expected_captured:
            problems.append(f"{label}: payment {payment.pk} is {payment.status} but captured {captured}")
        problems.extend(f"{label}: payment {payment.pk} {p}" for p in _fee_chargeback_settled_problems(payment, rows))
        refunds = payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(t=Sum("refund_amount"))["t"] or 0
        if refunds != refunded:
            problems.append(f"{label}: payment {payment.pk} refunds {refunds} != ledger refunded {refunded}")
        if payment.status == Status.REFUNDED and refunded != captured:
            problems.append(f"{label}: payment {payment.pk} is refunded but {captured - refunded} remains")
        if payment.status == Status.PARTIALLY_REFUNDED and not 0 < refunded < captured:
            problems.append(f"{label}: payment {payment.pk} is partially refunded but refunded {refunded}")
        if payment.status in PAID_STATUSES:
            receipt = Receipt.objects.filter(payment=payment).first()
            if receipt is None or receipt.receipt_amount != payment.gross_amount:
                problems.append(f"{label}: payment {payment.pk} has no matching receipt")
    return problems


def _fee_chargeback_settled_problems(payment: PaymentIntent, rows: dict[str, int]) -> list[str]:
    """The payment's gateway_fee, chargeback and settled entries against its status and recorded fee."""
    captured, refunded = rows.get(LedgerKind.CAPTURED) or 0, rows.get(LedgerKind.REFUNDED) or 0
    fee, chargeback = rows.get(LedgerKind.GATEWAY_FEE) or 0, rows.get(LedgerKind.CHARGEBACK) or 0
    settled = rows.get(LedgerKind.SETTLED) or 0
    problems: list[str] = []
    if fee and not captured:
        problems.append(f"has a gateway fee {fee} but captured nothing")
    elif fee > captured:
        problems.append(f"gateway fee {fee} is more than it captured ({captured})")
    if payment.fee_amount is not None and fee != payment.fee_amount:
        problems.append(f"recorded fee {payment.fee_amount} != ledger gateway_fee {fee}")
    if chargeback and payment.status != Status.DISPUTED:
        problems.append(f"is {payment.status} but the ledger charged back {chargeback}")
    if payment.status == Status.DISPUTED and captured > refunded and chargeback != captured - refunded:
        problems.append(f"is disputed but charged back {chargeback} of the {captured - refunded} it kept")
    if settled and settled != captured:
        problems.append(f"settled {settled} != captured {captured}")
    return problems


def ledger_verify(invoice: Invoice) -> None:
    """Raise LedgerMismatch listing every disagreement; silent when the books are right."""
    problems = ledger_problems(invoice)
    if problems:
        raise LedgerMismatch("; ".join(problems))


def lookup_payment(workspace, payment_id) -> PaymentIntent:
    payment = PaymentIntent.objects.filter(workspace=workspace, pk=payment_id).first()
    if payment is None:
        raise NotFound(_("No such payment."))
    return payment
