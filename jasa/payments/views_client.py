"""The client's side of paying: the pay page of an invoice, the status page after the gateway, receipts.

A pay link carries a signed token (``/pay/<invoice id>/?t=...``) so a client opens it from an email
or WhatsApp without logging in; the invoice's client (logged in) and the workspace's staff with
``payments.view`` may open it without one. These views only read and call the payment services.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jasa.core.errors import JasaError
from jasa.core.money import Money
from jasa.payments import documents, fees
from jasa.payments.connect import SANDBOX, account_for, default_gateway_name
from jasa.payments.gateways.base import GatewayDeclined, GatewayError, Method, gateway_class
from jasa.payments.invoice_document import invoice_document_urls
from jasa.payments.models import PENDING_STATUSES, FeeBearer, Invoice, InvoiceStatus, PaymentIntent, Receipt
from jasa.payments.receipts import receipt_urls
from jasa.payments.services import invoice_amounts, payment_start, payment_sync
from jasa.payments.services_methods import (
    can_save_card,
    card_saving_offered,
    card_setup_offers,
    client_saved_methods,
    is_expired,
    no_show_balance,
    offered_methods,
    saved_method_for_no_show,
    saved_method_remove_for_client,
)

SALT = "jasa.payments.pay"
POLL_SECONDS = 2


def pay_token(invoice: Invoice) -> str:
    return documents.sign(SALT, invoice.pk)


def pay_url(invoice: Invoice) -> str:
    """The absolute link to send a client (emails, WhatsApp, the invoice PDF)."""
    return settings.SITE_URL + reverse("payments:pay", args=[invoice.pk]) + f"?t={pay_token(invoice)}"


def _token_ok(invoice_id, token: str) -> bool:
    return documents.signed(SALT, invoice_id, token)


def _invoice_for(request, invoice_id) -> Invoice:
    """The invoice, if the token or the viewer's account allows it; otherwise it does not exist for them."""
    from jasa.payments.views_public import may_open

    invoice = get_object_or_404(Invoice.objects.select_related("workspace", "client"), pk=invoice_id)
    if invoice.status == InvoiceStatus.DRAFT or not may_open(
            request, token_ok=_token_ok(invoice.pk, request.GET.get("t", "")), workspace=invoice.workspace,
            client=invoice.client):
        raise Http404("No such invoice")
    return invoice


def _method_choices(invoice: Invoice, balance: Money) -> tuple[str, bool, list[tuple[str, list[tuple[str, str, Money]]]]]:
    """The default gateway, whether its account passes fees on, and its enabled methods grouped by family for
    the page, each with the surcharge the client would pay on ``balance`` (what payment_start will charge)."""
    from jasa.sandbox.methods import grouped  # the method names and groups of every gateway's pages

    gateway, offered = offered_methods(invoice.workspace)
    account = account_for(invoice.workspace, gateway)
    passed_on = account is not None and account.fee_bearer == FeeBearer.PASS_ON
    groups = [(title, [(value, label, fees.surcharge(invoice.workspace, account, value, balance))
                       for value, label in options]) for title, options in grouped(offered)]
    return gateway, passed_on, groups


def _invoice_context(invoice: Invoice) -> dict:
    lang = get_language() or "id"
    amounts = invoice_amounts(invoice)
    return {
        "invoice": invoice,
        "workspace": invoice.workspace,
        "totals": documents.invoice_totals(invoice, lang),
        "amounts": amounts,
        "balance": amounts["balance"].format(lang),
        "has_balance": amounts["balance"].amount > 0,
        "refund_policy": invoice.workspace.text("refund_policy", lang),
        "receipts": [(r, receipt_urls(r)) for r in Receipt.objects.filter(invoice=invoice).order_by("issued_at")],
        "invoice_links": invoice_document_urls(invoice),
    }


def pay(request, invoice_id):
    invoice = _invoice_for(request, invoice_id)
    request.workspace = invoice.workspace
    token = request.GET.get("t", "")
    if request.method == "POST":
        return _start(request, invoice, token)
    context = _invoice_context(invoice)
    gateway, fees_passed_on, groups = _method_choices(invoice, context["amounts"]["balance"])
    open_payments = PaymentIntent.objects.filter(invoice=invoice, status__in=PENDING_STATUSES).order_by("-created_at")
    context.update(groups=groups, gateway=gateway, gateway_label=gateway_class(gateway).label,
                   test_mode=_test_mode(invoice.workspace, gateway), fees_passed_on=fees_passed_on, token=token,
                   attempt=uuid.uuid4().hex, can_pay=invoice.status == InvoiceStatus.OPEN and context["has_balance"],
                   open_payments=[(p, _status_path(invoice, p, token)) for p in open_payments[:5]])
    if can_save_card(gateway, [value for _title, options in groups for value, _label, _fee in options]):
        no_show = no_show_balance(invoice)
        context.update(offer_save_card=True, no_show_balance=no_show.format(get_language() or "id") if no_show else "")
    return render(request, "payments/client/pay.html", context)


def _test_mode(workspace, gateway: str) -> bool:
    """Payments here move no real money: the built-in sandbox, or a gateway account in its test mode."""
    account = account_for(workspace, gateway)
    return gateway == SANDBOX or (account is not None and account.sandbox)


def _start(request, invoice: Invoice, token: str):
    method = request.POST.get("method") or None
    if method is not None and method not in Method._value2member_map_:
        messages.error(request, _("Choose a payment method."))
        return redirect(_pay_path(invoice, token))
    save_method = request.POST.get("save_method") == "1" and _box_counts(invoice, method)
    # the attempt id comes from the page: a double click starts one payment, not two; ticking the box after
    # going back is another payment (the one started without consent must not keep the card, and vice versa)
    key = (f"pay:{invoice.pk}:{(request.POST.get('attempt') or uuid.uuid4().hex)[:40]}:{method or 'hosted'}"
           + (":save" if save_method else ""))
    try:
        payment = payment_start(invoice=invoice, idempotency_key=key, method=method, save_method=save_method,
                                return_url=_return_url(invoice, token, key=key))
    except JasaError as exc:
        messages.error(request, exc.message)
        return redirect(_pay_path(invoice, token))
    target = (payment.next_action or {}).get("url") or payment.checkout_url
    if payment.status in PENDING_STATUSES and target:
        return redirect(target)
    return redirect(_status_path(invoice, payment, token))


def _box_counts(invoice: Invoice, method: str | None) -> bool:
    """The "save this card" box is the client's consent to later charges; it only means something for a card
    the gateway can keep: card chosen here, or the method left to the gateway's page when card is among those
    it offers (the gateway then keeps a card only if the client pays by card there; a forged box is ignored)."""
    if method is None:
        return card_saving_offered(invoice.workspace)
    return method == Method.CARD.value and can_save_card(default_gateway_name(invoice.workspace), [method])


def _pay_path(invoice: Invoice, token: str) -> str:
    return reverse("payments:pay", args=[invoice.pk]) + (f"?t={token}" if token else "")


def _status_path(invoice: Invoice, payment: PaymentIntent, token: str) -> str:
    return reverse("payments:pay_status", args=[invoice.pk, payment.pk]) + (f"?t={token}" if token else "")


def _return_url(invoice: Invoice, token: str, *, key: str) -> str:
    """Where the gateway sends the client back. The payment id is not known before it is created, so
    the link names the attempt's idempotency key and the status view finds the payment by it."""
    path = reverse("payments:pay_return", args=[invoice.pk])
    query = f"?k={signing.Signer(salt=SALT).sign(key)}" + (f"&t={token}" if token else "")
    return settings.SITE_URL + path + query


def pay_return(request, invoice_id):
    """The gateway's return link: find the attempt by its (signed) key and show its status."""
    invoice = _invoice_for(request, invoice_id)
    try:
        key = signing.Signer(salt=SALT).unsign(request.GET.get("k", ""))
    except signing.BadSignature:
        raise Http404("No such payment")
    payment = get_object_or_404(PaymentIntent, workspace=invoice.workspace, invoice=invoice, idempotency_key=key)
    return redirect(_status_path(invoice, payment, request.GET.get("t", "")))


def _payment_for(request, invoice_id, payment_id) -> tuple[Invoice, PaymentIntent]:
    invoice = _invoice_for(request, invoice_id)
    payment = get_object_or_404(PaymentIntent, pk=payment_id, invoice=invoice, workspace=invoice.workspace)
    return invoice, payment


def _status_context(request, invoice: Invoice, payment: PaymentIntent) -> dict:
    token = request.GET.get("t", "")
    lang = get_language() or "id"
    receipt = Receipt.objects.filter(payment=payment).first()
    return {
        "invoice": invoice,
        "workspace": invoice.workspace,
        "payment": payment,
        "amount": payment.amount.format(lang),
        "pending": payment.status in PENDING_STATUSES,
        "poll_url": reverse("payments:pay_status_poll", args=[invoice.pk, payment.pk]) + (f"?t={token}" if token else ""),
        "continue_url": (payment.next_action or {}).get("url") or payment.checkout_url,
        "action": payment.next_action or {},
        "qr_url": reverse("payments:pay_qr", args=[invoice.pk, payment.pk]) + (f"?t={token}" if token else ""),
        "pay_url": _pay_path(invoice, token),
        "receipt": receipt,
        "receipt_links": receipt_urls(receipt) if receipt else None,
        "invoice_links": invoice_document_urls(invoice),
        "poll_seconds": POLL_SECONDS,
    }


def pay_status(request, invoice_id, payment_id):
    invoice, payment = _payment_for(request, invoice_id, payment_id)
    request.workspace = invoice.workspace
    payment = _refresh(payment)
    return render(request, "payments/client/status.html", _status_context(request, invoice, payment))


def pay_qr(request, invoice_id, payment_id):
    """The QR code of a pending QRIS payment as a PNG, drawn from the payload the gateway returned."""
    import io

    import qrcode

    _invoice, payment = _payment_for(request, invoice_id, payment_id)
    payload = (payment.next_action or {}).get("qr_string")
    if not payload or payment.status not in PENDING_STATUSES:
        raise Http404("No QR code")
    buffer = io.BytesIO()
    qrcode.make(payload, box_size=8, border=2).save(buffer)
    return HttpResponse(buffer.getvalue(), content_type="image/png")


def pay_status_poll(request, invoice_id, payment_id):
    """The htmx fragment polled every 2 s while the payment is pending; without the trigger once final."""
    invoice, payment = _payment_for(request, invoice_id, payment_id)
    payment = _refresh(payment)
    return render(request, "payments/client/_status.html", _status_context(request, invoice, payment))


def _refresh(payment: PaymentIntent) -> PaymentIntent:
    """Ask the gateway while pending: the webhook may be late, lost or forged, the status API is the truth."""
    if payment.status not in PENDING_STATUSES:
        return payment
    try:
        return payment_sync(payment.pk)
    except (GatewayError, GatewayDeclined, JasaError):
        return payment  # the page keeps polling; reconciliation keeps trying


@login_required
def portal_receipts(request):
    """Every receipt of the signed-in client, across the businesses they bought from."""
    receipts = (Receipt.objects.filter(invoice__client__user=request.user)
                .select_related("workspace", "invoice", "payment").order_by("-issued_at"))
    lang = get_language() or "id"
    rows = [{"receipt": r, "amount": r.amount.format(lang), "links": receipt_urls(r)} for r in receipts[:200]]
    return render(request, "payments/client/receipts.html", {"rows": rows})


@login_required
def portal_methods(request):
    """The cards (and other methods) the signed-in client saved, with every business, and what each may charge."""
    rows = [{"method": m, "label": _method_label(m), "expiry": _expiry(m), "expired": is_expired(m),
             "for_no_show": saved_method_for_no_show(m)} for m in client_saved_methods(request.user)[:200]]
    return render(request, "payments/client/methods.html", {"rows": rows, "add_cards": card_setup_offers(request.user),
                                                            "attempt": uuid.uuid4().hex})


@login_required
def portal_method_remove(request, method_id):
    """GET asks to confirm; POST removes. Another client's method, or a removed one, does not exist here."""
    saved = get_object_or_404(client_saved_methods(request.user), pk=method_id)
    if request.method != "POST":
        return render(request, "payments/client/method_remove.html",
                      {"method": saved, "label": _method_label(saved), "for_no_show": saved_method_for_no_show(saved)})
    saved_method_remove_for_client(saved)
    messages.success(request, _("%(method)s was removed. %(business)s can no longer charge it: future payments "
                                "will ask you to pay by link.") % {"method": _method_label(saved),
                                                                    "business": saved.workspace.name})
    return redirect("payments:portal_methods")


def _method_label(saved) -> str:
    """Brand and the last four digits ("Visa •••• 1114"); never more of the number than the gateway gave."""
    brand = (saved.brand or saved.method).replace("_", " ").title()
    digits = saved.masked[-4:]
    return f"{brand} •••• {digits}" if digits.isdigit() else " ".join(p for p in (brand, saved.masked) if p)


def _expiry(saved) -> str:
    """MM/YY, as printed on the card."""
    if not saved.expiry_month or not saved.expiry_year:
        return ""
    return f"{saved.expiry_month:02d}/{saved.expiry_year % 100:02d}"
