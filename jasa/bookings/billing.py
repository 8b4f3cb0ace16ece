"""Everything bookings asks of the payment core, in one place: deposit and balance invoices,
starting the deposit payment, and refunds. Bookings never touches payment rows directly."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils.translation import gettext as _
from django.utils.translation import override

from jasa.core.money import Money

log = logging.getLogger(__name__)


def _description(booking, what: str) -> str:
    with override(booking.client_language):
        when = booking.start_at.astimezone(_zone(booking)).strftime("%d-%m-%Y %H:%M")
        if what == "deposit":
            label = _("Deposit")
        else:
            label = _("Balance")
        return f"{label}: {booking.offer.name(booking.client_language)} ({when})"


def _zone(booking):
    from zoneinfo import ZoneInfo

    return ZoneInfo(booking.client_time_zone or booking.workspace.time_zone)


def invoice_for(booking, *, what: str, amount: Money, due_at: dt.datetime | None):
    """Create and issue the deposit or balance invoice of a booking (inside the caller's transaction)."""
    from jasa.payments.services import invoice_create, invoice_issue

    invoice = invoice_create(
        workspace=booking.workspace,
        client=booking.client,
        lines=[{"description": _description(booking, what), "amount": amount, "quantity": 1}],
        currency=amount.currency,
        source=f"booking:{booking.pk}:{what}",
        due_at=due_at,
        language=booking.client_language,
    )
    return invoice_issue(invoice)


def payment_start(booking, *, return_url: str, save_method: bool = False):
    """Start (or, with the same key, get back) the deposit payment: the client picks the method on the
    gateway's hosted page. Returns the payment core's PaymentIntent.

    ``save_method``: the client consented at the checkout to keeping their card (jasa.bookings.consent).
    The payment started when the slot was held had no such consent, so this is another payment with its own
    key (each choice is one payment however often it is clicked); the one not used expires at the gateway.
    The method is unknown up front, so the core cannot check it can be saved: the gateway keeps a card only.
    """
    from jasa.payments.services import payment_start as core_payment_start

    key = f"booking:{booking.pk}:deposit" + (":save" if save_method else "")
    return core_payment_start(
        invoice=booking.deposit_invoice, idempotency_key=key, return_url=return_url, save_method=save_method
    )


def paid_payments(invoice) -> list:
    from jasa.payments.models import PAID_STATUSES

    if invoice is None:
        return []
    return list(invoice.payments.filter(status__in=PAID_STATUSES).order_by("created_at"))


def pending_payment_expiry(invoice) -> dt.datetime | None:
    """The latest expiry of a pending VA / QRIS / store payment of this invoice (holds wait for it)."""
    from jasa.payments.models import PENDING_STATUSES

    if invoice is None:
        return None
    found = invoice.payments.filter(status__in=PENDING_STATUSES, expires_at__isnull=False).exclude(
        method__in=["", "card"]
    ).order_by("-expires_at").values_list("expires_at", flat=True).first()
    return found


def refund(booking, *, amount: Money, reason: str) -> Money:
    """Refund ``amount`` of the paid deposit through the payment core; returns what was refunded.

    Split over the deposit's successful payments (normally one). The refund key makes a retry safe.
    A refund the gateway cannot make (VA and store payments at most gateways) becomes a refund owed
    by bank transfer in the payment core (staff record it once sent): the caller sees less refunded
    than asked and says so.
    """
    from django.db import transaction

    from jasa.core.errors import JasaError
    from jasa.payments.services import payment_refund

    left = amount.amount
    done = 0
    for payment in paid_payments(booking.deposit_invoice):
        if left <= 0:
            break
        part = min(left, payment.applied_amount)
        if part <= 0:
            continue
        try:
            with transaction.atomic():
                result = payment_refund(
                    payment=payment, amount=Money(part, amount.currency), reason=reason,
                    refund_key=f"booking:{booking.pk}:refund:{payment.pk}",
                )
        except JasaError as exc:
            log.warning("refund for booking %s not made through the gateway: %s", booking.pk, exc)
            _owe_by_transfer(booking, payment, Money(part, amount.currency), reason)
            continue
        if result.status == "failed":
            continue
        left -= part
        done += part
    return Money(done, amount.currency)


def _owe_by_transfer(booking, payment, amount: Money, reason: str) -> None:
    """Keep the refund the gateway refused visible as owed, for staff to pay by bank transfer."""
    from django.db import transaction

    from jasa.core.errors import JasaError
    from jasa.payments.services import refund_request_manual

    try:
        with transaction.atomic():
            refund_request_manual(payment=payment, amount=amount, reason=reason,
                                  refund_key=f"booking:{booking.pk}:transfer:{payment.pk}")
    except JasaError as exc:
        log.warning("refund owed for booking %s not recorded: %s", booking.pk, exc)


def cancellation_told_client(refund) -> bool:
    """True for a refund owed by transfer that a booking's cancellation message already announced (amount,
    transfer, link to the account form on the manage page): the payment core then sends no second email.
    A late deposit's refund (a taken slot, booking not cancelled) is announced by the payment core."""
    from jasa.bookings.models import Booking, BookingStatus

    return refund.refund_key.startswith("booking:") and Booking.objects.filter(
        workspace_id=refund.workspace_id, deposit_invoice_id=refund.payment.invoice_id,
        status=BookingStatus.CANCELLED).exists()


def owed_refunds(booking) -> list:
    """The deposit's refunds waiting for a bank transfer."""
    from jasa.payments.selectors import owed_refunds as owed

    return owed(booking.deposit_invoice) if booking.deposit_invoice_id else []
