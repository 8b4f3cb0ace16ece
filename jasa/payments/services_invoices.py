"""What the staff invoice screens need beyond services.py: changing a draft, emailing the pay link,
and the list's filters. Creating, issuing, voiding and writing off stay in services.py."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from jasa.core import audit
from jasa.core.errors import Conflict, ValidationError
from jasa.payments import wording
from jasa.payments.models import Invoice, InvoiceLine, InvoiceStatus
from jasa.payments.services import _lock_invoice, _prepare_lines, _recompute_totals, not_payable_message


@transaction.atomic
def invoice_update_draft(invoice: Invoice, *, client, lines: list[dict], currency: str,
                         due_at: dt.datetime | None, memo: str) -> Invoice:
    """Replace a draft's client, currency, due date, note and lines. An issued invoice is fixed."""
    invoice = _lock_invoice(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(_("Invoice %(number)s is %(status)s; only a draft can be changed.") % {
            "number": wording.invoice(invoice), "status": wording.invoice_status(invoice)})
    if client.workspace_id != invoice.workspace_id:
        raise ValidationError(_("That client belongs to another business."), field="client")
    if not lines:
        raise ValidationError(_("An invoice needs at least one line."), field="lines")
    if due_at is not None and due_at.tzinfo is None:
        raise ValidationError(_("The due date needs a time zone."), field="due_at")
    prepared = _prepare_lines(lines, currency)
    before = {"client": str(invoice.client_id), "currency": invoice.currency, "total": invoice.total}
    invoice.lines.all().delete()
    for line in prepared:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(prepared)
    invoice.client, invoice.currency, invoice.due_at, invoice.memo = client, currency, due_at, memo
    invoice.language = getattr(client, "language", "") or "id"  # as invoice_create chooses it
    invoice.save(update_fields=["client", "currency", "due_at", "memo", "language", "updated_at"])
    _recompute_totals(invoice)
    audit.record(invoice, "invoice.update", before=before,
                 after={"client": str(client.pk), "currency": currency, "total": invoice.total})
    return invoice


def invoice_send_pay_link(invoice: Invoice) -> bool:
    """Email the client the link to pay an open invoice, through the outbox, once per invoice."""
    from jasa.notifications.services import notify
    from jasa.payments.views_client import pay_url

    if invoice.status != InvoiceStatus.OPEN:
        raise Conflict(not_payable_message(invoice))
    client = invoice.client
    language = invoice.language if invoice.language in ("id", "en") else "id"
    due = invoice.due_at.astimezone(invoice.workspace.tz).strftime("%d-%m-%Y") if invoice.due_at else ""
    notify(
        workspace=invoice.workspace, channel="email", recipient=client.email, template="payments.invoice",
        context={"recipient_name": client.name, "workspace_name": invoice.workspace.name, "number": invoice.number,
                 "amount": invoice.total.format(language), "due": due, "memo": invoice.memo,
                 "pay_url": pay_url(invoice)},
        language=language, dedupe_key=f"invoice-pay-link:{invoice.pk}",
    )
    return True
