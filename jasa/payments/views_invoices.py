"""Staff invoice screens: the list with filters, a new draft (and changing it), an invoice's page with its
money from the ledger, and the actions issue, void and mark uncollectible. Rules live in the services;
a refused action (a forged POST, a state that moved on) comes back as a message, never a 500."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.core.audit import for_object
from jasa.core.errors import JasaError, NotFound
from jasa.core.money import Money
from jasa.payments import selectors, services, services_invoices
from jasa.payments.forms_invoices import InvoiceFilterForm, InvoiceForm, IssueForm, ReasonForm, line_formset
from jasa.payments.models import Invoice, InvoiceStatus, Receipt
from jasa.web.decorators import workspace_member

PAGE = 25
CAPABILITY = "invoices.manage"


def _invoice_or_404(request, invoice_id) -> Invoice:
    try:
        return selectors.invoice_get(request.workspace, invoice_id)
    except NotFound:
        raise Http404("No such invoice")


def _back(request, invoice: Invoice):
    return redirect("payments:invoice_detail", ws=request.workspace.slug, invoice_id=invoice.pk)


def _due_at(workspace, day: dt.date | None) -> dt.datetime | None:
    """A due date means "by the end of that day" in the business's time zone."""
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=workspace.tz)


@workspace_member(CAPABILITY)
def invoices_list(request):
    workspace = request.workspace
    form = InvoiceFilterForm(request.GET or None, workspace=workspace)
    if form.is_bound and not form.is_valid():
        invoices = Invoice.objects.none()  # a filter that cannot be read (e.g. a foreign client) matches nothing
    else:
        invoices = selectors.invoices(workspace, **(form.cleaned_data if form.is_bound else {}))
    page = Paginator(invoices, PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [{"invoice": inv, "amounts": services.invoice_amounts(inv), "overdue": selectors.is_overdue(inv)}
            for inv in page]
    return render(request, "payments/staff/invoices/list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(), "filtered": bool(request.GET.get(
            "status") or request.GET.get("client") or request.GET.get("number") or request.GET.get("overdue")),
        "has_clients": workspace.clients.exists(), "tz": workspace.tz,
    })


def _edit(request, invoice: Invoice | None):
    """The form of a new draft (``invoice`` None) or of a draft being changed."""
    workspace = request.workspace
    if request.method == "POST":
        add = "add_line" in request.POST  # one more row: nothing is checked or saved yet
        form = (InvoiceForm(workspace=workspace, initial=request.POST.dict()) if add
                else InvoiceForm(request.POST, workspace=workspace))
        currency = request.POST.get("currency") or workspace.currency
        if currency not in dict(form.fields["currency"].choices):  # type: ignore[attr-defined]
            currency = workspace.currency
        lines = line_formset(request.POST, currency=currency, add=add)
        if not add and form.is_valid() and lines.is_valid():
            d = form.cleaned_data
            fields = {"client": d["client"], "currency": d["currency"], "due_at": _due_at(workspace, d["due_date"]),
                      "memo": d["memo"], "lines": lines.lines()}
            try:
                if invoice is None:
                    invoice = services.invoice_create(workspace=workspace, **fields)
                    messages.success(request, _("Draft invoice saved. Check it, then issue it to give it a number "
                                                "and let the client pay."))
                else:
                    invoice = services_invoices.invoice_update_draft(invoice, **fields)
                    messages.success(request, _("Draft invoice changed."))
                return _back(request, invoice)
            except JasaError as exc:
                messages.error(request, _("The invoice was not saved: %(error)s") % {"error": exc.message})
        elif not add:
            messages.error(request, _("The invoice was not saved. Correct the marked fields."))
    elif invoice is None:
        form = InvoiceForm(workspace=workspace, initial={"client": request.GET.get("client") or None})
        lines = line_formset(currency=workspace.currency)
    else:
        tz = workspace.tz
        form = InvoiceForm(workspace=workspace, initial={
            "client": invoice.client_id, "currency": invoice.currency, "memo": invoice.memo,
            "due_date": invoice.due_at.astimezone(tz).date() if invoice.due_at else None})
        lines = line_formset(currency=invoice.currency, initial=[
            {"kind": li.kind, "description": li.description, "quantity": li.quantity,
             "unit_price": f"{li.unit.major.copy_abs():f}"}
            for li in invoice.lines.all() if li.kind in ("service", "discount")])
    return render(request, "payments/staff/invoices/form.html", {
        "form": form, "lines": lines, "invoice": invoice, "has_clients": workspace.clients.exists(),
    })


@workspace_member(CAPABILITY)
def invoice_new(request):
    return _edit(request, None)


@workspace_member(CAPABILITY)
def invoice_edit(request, invoice_id):
    invoice = _invoice_or_404(request, invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed; this invoice is %(status)s.")
                       % {"status": invoice.get_status_display()})
        return _back(request, invoice)
    return _edit(request, invoice)


@workspace_member(CAPABILITY)
def invoice_detail(request, invoice_id):
    from jasa.notifications.models import OutboxMessage
    from jasa.payments.documents import invoice_totals
    from jasa.payments.invoice_document import invoice_document_urls
    from jasa.payments.receipts import receipt_urls
    from jasa.payments.views_client import pay_url

    invoice = _invoice_or_404(request, invoice_id)
    status = invoice.status
    return render(request, "payments/staff/invoices/detail.html", {
        "invoice": invoice,
        "totals": invoice_totals(invoice, get_language() or "id"),
        "document_links": invoice_document_urls(invoice) if status != InvoiceStatus.DRAFT else None,
        "amounts": services.invoice_amounts(invoice),
        "overdue": selectors.is_overdue(invoice),
        "payments": list(selectors.payments(request.workspace, invoice=invoice)),
        "receipts": [(r, receipt_urls(r)) for r in Receipt.objects.filter(invoice=invoice).order_by("issued_at")],
        "owed_refunds": selectors.owed_refunds(invoice),
        "pay_url": pay_url(invoice) if status in (InvoiceStatus.OPEN, InvoiceStatus.PAID) else "",
        "link_sent": OutboxMessage.objects.filter(dedupe_key=f"invoice-pay-link:{invoice.pk}").first(),
        "audit": _audit_rows(invoice, get_language() or "id"),
        "can_edit": status == InvoiceStatus.DRAFT,
        "can_issue": status == InvoiceStatus.DRAFT,
        "can_void": status in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN),
        "can_write_off": status == InvoiceStatus.OPEN,
        "issue_form": IssueForm(), "void_form": ReasonForm(prefix="void"), "write_off_form": ReasonForm(prefix="wo"),
        "tz": request.workspace.tz,
    })


def _audit_rows(invoice: Invoice, language: str) -> list[dict]:
    """The invoice's audit entries, oldest first, with stored amounts ({amount, currency}) as money."""
    def shown(value) -> str:
        if isinstance(value, dict) and set(value) == {"amount", "currency"}:
            try:
                return Money.from_json(value).format(language)
            except (TypeError, ValueError):
                pass
        return str(value)

    return [{"entry": e, "after": [(k, shown(v)) for k, v in (e.after or {}).items() if v not in ("", None)]}
            for e in for_object(invoice).order_by("created_at")]


@require_POST
@workspace_member(CAPABILITY)
def invoice_issue(request, invoice_id):
    invoice = _invoice_or_404(request, invoice_id)
    form = IssueForm(request.POST)
    send = form.is_valid() and form.cleaned_data["send_link"]
    try:
        invoice = services.invoice_issue(invoice)
    except JasaError as exc:
        messages.error(request, _("The invoice was not issued: %(error)s") % {"error": exc.message})
        return _back(request, invoice)
    messages.success(request, _("Invoice %(number)s issued. The client can pay it with the link below.")
                     % {"number": invoice.number})
    if send:
        _send_link(request, invoice)
    return _back(request, invoice)


def _send_link(request, invoice: Invoice) -> None:
    if not invoice.client.email:
        messages.error(request, _("The client has no email address; copy the pay link and send it yourself."))
        return
    try:
        services_invoices.invoice_send_pay_link(invoice)
    except JasaError as exc:
        messages.error(request, _("The pay link was not emailed: %(error)s") % {"error": exc.message})
    else:
        messages.success(request, _("The pay link is on its way to %(email)s (see the outbox).")
                         % {"email": invoice.client.email})


@require_POST
@workspace_member(CAPABILITY)
def invoice_send_link(request, invoice_id):
    invoice = _invoice_or_404(request, invoice_id)
    _send_link(request, invoice)
    return _back(request, invoice)


def _reason_view(prefix: str, service, done, failed):
    """A POST view that calls ``service(invoice, reason)``: void and mark uncollectible."""
    @require_POST
    @workspace_member(CAPABILITY)
    def view(request, invoice_id):
        invoice = _invoice_or_404(request, invoice_id)
        form = ReasonForm(request.POST, prefix=prefix)
        if not form.is_valid():
            messages.error(request, _("Give a reason; it is kept in the invoice's audit trail."))
            return _back(request, invoice)
        try:
            invoice = service(invoice, form.cleaned_data["reason"])
        except JasaError as exc:
            messages.error(request, failed % {"error": exc.message})
        else:
            messages.success(request, done % {"invoice": invoice})
        return _back(request, invoice)

    return view


invoice_void = _reason_view(
    "void", services.invoice_void,
    gettext_lazy("Invoice %(invoice)s is void; the client can no longer pay it."),
    gettext_lazy("The invoice was not voided: %(error)s"))
invoice_mark_uncollectible = _reason_view(
    "wo", services.invoice_mark_uncollectible,
    gettext_lazy("Invoice %(invoice)s is marked uncollectible; payments so far stay recorded."),
    gettext_lazy("The invoice was not marked uncollectible: %(error)s"))
