"""Telling people that a refund is owed by bank transfer (VA and store payments cannot be refunded through
the gateway): the client gets the amount, why, and the link to give their bank account; the workspace's
owners and finance members learn that a transfer is owed, with a link to the payment.

Sent from the ``refund_owed`` signal (after the owed refund's transaction commits), through the outbox,
once per refund and recipient (dedupe keys). A domain app that already tells the client about the refund
in its own words registers a check with :func:`client_told_elsewhere`; that client then gets no second
email (bookings: the cancellation message names the transfer and links the booking's account form).
Staff are told in every case: the booking's staff member may not be who sends the money.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from jasa.payments.models import InvoiceStatus, Refund
from jasa.payments.signals import refund_owed

log = logging.getLogger(__name__)

_told_elsewhere: list[Callable[[Refund], bool]] = []


def client_told_elsewhere(check: Callable[[Refund], bool]) -> None:
    """Register ``check(refund)``: True when the app announced this owed refund to the client itself."""
    if check not in _told_elsewhere:
        _told_elsewhere.append(check)


def refund_account_url(invoice) -> str:
    """The client's link to the invoice's refund page; the pay link's signed token opens it (same scheme)."""
    from jasa.payments.views_client import pay_token

    return settings.SITE_URL + reverse("payments:refund_account", args=[invoice.pk]) + f"?t={pay_token(invoice)}"


def owed_reason(refund: Refund, language: str) -> str:
    """Why the money is returned, in the reader's language: the payment core's own reasons are translated,
    a reason staff wrote is shown as they wrote it."""
    invoice = refund.payment.invoice
    with override(language):
        if refund.refund_key == f"overpayment:{refund.payment_id}":
            number = invoice.number or str(invoice.pk)[:8]
            if invoice.status == InvoiceStatus.VOID:
                return _("Invoice %(number)s was cancelled, so your payment is returned.") % {"number": number}
            return _("Invoice %(number)s was paid twice; the second payment is returned.") % {"number": number}
        return refund.reason


def _language(value: str) -> str:
    return value if value in ("id", "en") else "id"


def refund_owed_notify(refund: Refund) -> None:
    """Email the client (unless told elsewhere) and the owners and finance members about an owed refund."""
    refund = Refund.objects.select_related("payment__invoice__client", "workspace").get(pk=refund.pk)
    if not refund.is_owed:
        return
    if not any(check(refund) for check in _told_elsewhere):
        _to_client(refund)
    _to_staff(refund)


def _to_client(refund: Refund) -> None:
    from jasa.notifications.services import notify

    invoice = refund.payment.invoice
    client = invoice.client
    if not client.email:
        return
    language = _language(client.language)
    notify(
        workspace=refund.workspace, channel="email", recipient=client.email, template="payments.refund_owed",
        context={
            "recipient_name": client.name, "workspace_name": refund.workspace.name,
            "invoice_number": invoice.number or "", "amount": refund.amount.format(language),
            "reason": owed_reason(refund, language),
            "account_url": "" if refund.has_account else refund_account_url(invoice),
            "bank_name": refund.bank_name, "account_tail": refund.account_number[-4:],
            "transfer_days": refund.workspace.refund_transfer_days or 0,
        },
        language=language, dedupe_key=f"refund:{refund.pk}:owed:client",
    )


def staff_to_tell(workspace) -> list:
    """The active owners and finance members: who pays a refund by bank transfer."""
    from jasa.accounts.models import Membership, Role

    return list(Membership.objects.filter(workspace=workspace, is_active=True, role__in=[Role.OWNER, Role.FINANCE])
                .select_related("user").order_by("created_at"))


def _to_staff(refund: Refund) -> None:
    from jasa.notifications.services import notify

    invoice = refund.payment.invoice
    url = settings.SITE_URL + reverse("payments:detail", args=[refund.workspace.slug, refund.payment_id])
    for membership in staff_to_tell(refund.workspace):
        user = membership.user
        if not user.email:
            continue
        language = _language(getattr(user, "language", "id"))
        notify(
            workspace=refund.workspace, channel="email", recipient=user.email, template="payments.refund_owed_staff",
            context={
                "recipient_name": getattr(user, "name", "") or user.email, "workspace_name": refund.workspace.name,
                "client_name": invoice.client.name, "invoice_number": invoice.number or "",
                "amount": refund.amount.format(language), "reason": owed_reason(refund, language),
                "has_account": refund.has_account, "payment_url": url,
            },
            language=language, dedupe_key=f"refund:{refund.pk}:owed:staff:{membership.pk}",
        )


@receiver(refund_owed, dispatch_uid="payments.refund_owed_notice")
def _refund_owed(sender, refund, **kwargs) -> None:
    refund_owed_notify(refund)
