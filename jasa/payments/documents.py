"""What the invoice and the receipt (kuitansi) share as documents: signed links, their rows (lines, subtotal,
PPN, surcharges, total), dates and method names for the client, and the A4 PDF both are drawn as.

``receipts.py`` and ``invoice_document.py`` say what each document shows. Their HTML pages (and the pay page
and the staff invoice page) draw the same rows with ``payments/_doc_totals.html`` and the business's legal
details with ``payments/_letterhead.html``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from django.core import signing
from django.utils import translation
from django.utils.translation import gettext as _

from jasa.core.money import Money
from jasa.payments.models import Invoice, InvoiceLine, LineKind
from jasa.payments.tax_terms import TaxTerms

# --- signed links -----------------------------------------------------------------------------------
# A document link carries a token signed with SECRET_KEY and the document kind's salt, so it opens from an
# email without logging in, and a receipt's token opens no invoice (nor the pay page) and the other way round.


def sign(salt: str, pk) -> str:
    return signing.Signer(salt=salt).sign(str(pk)).split(":", 1)[1]


def signed(salt: str, pk, token: str) -> bool:
    try:
        return signing.Signer(salt=salt).unsign(f"{pk}:{token}") == str(pk)
    except signing.BadSignature:
        return False


# --- the rows of an invoice ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    amount: Money


@dataclass(frozen=True)
class Totals:
    """An invoice's money as documents show it: what was bought, the subtotal PPN was charged on, each tax as
    its own row, the fees passed on with a payment (added after tax, when the payment succeeded), the total."""

    items: list[InvoiceLine]
    subtotal: Money
    taxes: list[Row]
    surcharges: list[Row]
    total: Money


def invoice_totals(invoice: Invoice, language: str) -> Totals:
    with translation.override(language):
        lines = list(invoice.lines.select_related("payment").order_by("position", "created_at"))
        items = [li for li in lines if li.kind != LineKind.TAX and li.payment_id is None]
        subtotal = sum((li.amount for li in items), Money.zero(invoice.currency))
        taxes = [Row(_tax_label(li, subtotal, language), li.amount) for li in lines if li.kind == LineKind.TAX]
        surcharges = [Row(_surcharge_label(li, language), li.amount)
                      for li in lines if li.kind != LineKind.TAX and li.payment_id is not None]
        return Totals(items=items, subtotal=subtotal, taxes=taxes, surcharges=surcharges, total=invoice.total)


def _tax_label(line: InvoiceLine, subtotal: Money, language: str) -> str:
    terms = TaxTerms.parse(line.description)
    return terms.row_label(subtotal, language) if terms is not None else line.description  # typed in by hand


def _surcharge_label(line: InvoiceLine, language: str) -> str:
    method = line.payment.method if line.payment is not None else ""
    return _("Service fee (%(method)s)") % {"method": method_label(method, language)} if method else line.description


def method_label(method: str, language: str) -> str:
    """The method as the client knows it ("BNI virtual account"), not its code ("va_bni")."""
    from jasa.payments.gateways.base import Method
    from jasa.sandbox.methods import LABELS  # the method names of every gateway's pages

    label = LABELS.get(Method(method)) if method in Method._value2member_map_ else None
    if label is None:
        return method
    with translation.override(language):
        return str(label)


def local_date(value: dt.datetime | None, tz, *, time: bool = False) -> str:
    """A date as printed on Indonesian documents (02-12-2026), in the business's time zone."""
    if value is None:
        return ""
    return value.astimezone(tz).strftime("%d-%m-%Y %H:%M" if time else "%d-%m-%Y")


# --- the PDF ------------------------------------------------------------------------------------------


@dataclass
class Pdf:
    """One A4 page of a document: the business's letterhead, the facts (number, dates, who), the lines with
    subtotal, PPN, surcharges and total, then the money rows that follow the total (paid, balance), optional
    tables (the payments of an invoice) and notes."""

    title: str
    workspace: Any  # accounts.Workspace
    facts: list[tuple[str, str]]
    totals: Totals
    after_total: list[tuple[str, Money]] = field(default_factory=list)
    tables: list[tuple[str, Sequence[str], list[Sequence[str]]]] = field(default_factory=list)
    stamp: str = ""
    notes: list[str] = field(default_factory=list)


def pdf_render(doc: Pdf, language: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    def text(value: str, style: str = "Normal") -> Paragraph:
        # Paragraph reads markup: a client named "A & B <Studio>" must come out as written.
        return Paragraph(escape(value).replace("\n", "<br/>"), styles[style])

    def money(value: Money) -> str:
        return value.format(language)

    buf = io.BytesIO()
    styles = getSampleStyleSheet()
    ws = doc.workspace
    with translation.override(language):
        pdf = SimpleDocTemplate(buf, pagesize=A4, title=doc.title, author=ws.legal_name or ws.name,
                                leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm)
        story: list = [text(doc.title, "Title")]
        if doc.stamp:
            story.append(text(doc.stamp, "Heading2"))
        story.append(text(ws.legal_name or ws.name, "Heading3"))
        for line in letterhead_lines(ws):
            story.append(text(line))
        story.append(Spacer(1, 6 * mm))
        story += [text(f"{label}: {value}") for label, value in doc.facts if value]
        story.append(Spacer(1, 6 * mm))

        totals = doc.totals
        rows: list[list] = [[_("Description"), _("Qty"), _("Price"), _("Amount")]]
        rows += [[text(li.description), str(li.quantity), money(li.unit), money(li.amount)] for li in totals.items]
        money_rows = [(_("Subtotal"), totals.subtotal)]
        money_rows += [(row.label, row.amount) for row in totals.taxes + totals.surcharges]
        money_rows += [(_("Total"), totals.total), *doc.after_total]
        first_money_row = len(rows)
        rows += [[text(label), "", "", money(amount)] for label, amount in money_rows]
        total_row = first_money_row + 1 + len(totals.taxes) + len(totals.surcharges)
        table = Table(rows, colWidths=[95 * mm, 12 * mm, 33 * mm, 34 * mm])
        table.setStyle(TableStyle([
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ("LINEABOVE", (0, first_money_row), (-1, first_money_row), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTNAME", (3, total_row), (3, -1), "Helvetica-Bold"),
        ] + [("SPAN", (0, r), (2, r)) for r in range(first_money_row, len(rows))]))
        story.append(table)
        for heading, header, body in doc.tables:
            if not body:
                continue
            story += [Spacer(1, 6 * mm), text(heading, "Heading4")]
            extra = Table([list(header), *[list(r) for r in body]], colWidths=[45 * mm, 30 * mm, 65 * mm, 34 * mm])
            extra.setStyle(TableStyle([
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
            ]))
            story.append(extra)
        if doc.notes:
            story.append(Spacer(1, 8 * mm))
            story += [text(note, "Italic") for note in doc.notes]
        pdf.build(story)
    return buf.getvalue()


def letterhead_lines(workspace) -> list[str]:
    """The business's legal details under its name, as the PDF and the pages print them."""
    return [line for line in (workspace.address, f"NPWP {workspace.npwp}" if workspace.npwp else "",
                              " · ".join(p for p in (workspace.email, workspace.phone) if p)) if line]
