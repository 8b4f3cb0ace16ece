"""Recording a refund paid by bank transfer for an API caller.

The money side is :func:`jasa.payments.services.refund_record_manual` (ledger, status, ``payment_refunded``,
the refund receipt email). An API caller knows the payment, not the owed refund's key, and may say on which
day the money left the bank; this module adds those two things and nothing else.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from jasa.core import audit, clock
from jasa.core.errors import Conflict, ValidationError
from jasa.core.money import Money
from jasa.payments.models import PaymentIntent, Refund, RefundChannel, RefundStatus
from jasa.payments.services import refund_record_manual

TRANSFER_DATE_ACTION = "refund.transfer_date"


def owed_refund_of(payment: PaymentIntent) -> Refund | None:
    """The payment's oldest refund still waiting for a bank transfer (normally its only one)."""
    return (Refund.objects.filter(payment=payment, channel=RefundChannel.BANK_TRANSFER, status=RefundStatus.PENDING)
            .order_by("created_at").first())


def _check_date(payment: PaymentIntent, transferred_on: dt.date) -> None:
    tz = payment.workspace.tz
    if transferred_on > clock.now().astimezone(tz).date():
        raise ValidationError(_("The transfer date cannot be in the future."), field="transferred_on")
    if transferred_on < payment.created_at.astimezone(tz).date():
        raise ValidationError(_("The transfer date cannot be before the payment was made."), field="transferred_on")


@transaction.atomic
def refund_transfer_record(*, payment: PaymentIntent, amount: Money, reason: str, transfer_reference: str,
                           transferred_on: dt.date | None = None, refund_key: str | None = None) -> Refund:
    """Record that ``amount`` of ``payment`` was paid back by bank transfer.

    Without ``refund_key`` it settles the payment's owed refund (or records a new one when none is owed).
    ``transferred_on`` (the bank's date, in the workspace's zone; default: today there) is checked and kept in
    the audit log, once per refund (the Refund row has no column for it). Idempotent by key like the core service.
    """
    payment = PaymentIntent.objects.select_related("workspace").get(pk=payment.pk)
    if transferred_on is not None:
        _check_date(payment, transferred_on)
    if refund_key is None:
        owed = owed_refund_of(payment)
        refund_key = owed.refund_key if owed is not None else None
    refund = refund_record_manual(payment=payment, amount=amount, reason=reason,
                                  transfer_reference=transfer_reference, refund_key=refund_key)
    if refund.channel != RefundChannel.BANK_TRANSFER:
        raise Conflict(_("This refund key belongs to a refund through the payment gateway, not a bank transfer."),
                       field="refund_key")
    if not audit.for_object(refund).filter(action=TRANSFER_DATE_ACTION).exists():
        day = transferred_on or clock.now().astimezone(payment.workspace.tz).date()
        audit.record(refund, TRANSFER_DATE_ACTION, after={"transferred_on": day.isoformat()})
    return refund


def transfer_date(refund: Refund) -> dt.date | None:
    """The day a recorded transfer left the bank, as recorded through the API; for one recorded elsewhere (the
    staff form), the day the refund row last changed."""
    if refund.channel != RefundChannel.BANK_TRANSFER or refund.status != RefundStatus.SUCCEEDED:
        return None
    entry = audit.for_object(refund).filter(action=TRANSFER_DATE_ACTION).order_by("created_at").first()
    if entry is not None and entry.after and entry.after.get("transferred_on"):
        return dt.date.fromisoformat(entry.after["transferred_on"])
    return refund.updated_at.astimezone(refund.workspace.tz).date()
