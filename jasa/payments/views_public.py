"""Public endpoints of the payment core: gateway webhooks and the signed links of receipts and invoices."""

from __future__ import annotations

import json
import logging

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jasa.payments.gateways.base import WebhookRejected
from jasa.payments.invoice_document import (
    invoice_document_context,
    invoice_document_urls,
    invoice_pdf,
    pdf_filename,
)
from jasa.payments.invoice_document import token_ok as invoice_token_ok
from jasa.payments.models import Invoice, InvoiceStatus, Receipt
from jasa.payments.receipts import receipt_context, receipt_pdf, token_ok
from jasa.payments.services import webhook_receive

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 256 * 1024


@csrf_exempt
@require_POST
def webhook(request, gateway: str, account=None):
    """Verify, store once, queue the re-read, answer fast. Forged/stale/malformed: 4xx, nothing changes."""
    if len(request.body) > MAX_WEBHOOK_BYTES:
        return JsonResponse({"detail": "body too large"}, status=413)
    if _spells_nul(request.body):
        return JsonResponse({"detail": "malformed", "reason": "a NUL character in the body"}, status=400)
    try:
        received = webhook_receive(gateway, dict(request.headers), request.body,
                                   account_id=str(account) if account else "")
    except LookupError:
        return JsonResponse({"detail": f"unknown gateway {gateway}"}, status=404)
    except WebhookRejected as exc:
        log.warning("webhook %s rejected: %s", gateway, exc)
        return JsonResponse({"detail": "rejected", "reason": str(exc)[:200]}, status=400)
    except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        return JsonResponse({"detail": "malformed", "reason": str(exc)[:200]}, status=400)
    return JsonResponse({"ok": True, "duplicate": received.duplicate}, status=200)


def may_open(request, *, token_ok: bool, workspace, client) -> bool:
    """A client's document or page opens with its signed token, for the client signed in, and for the
    business's staff who may see payments; for anyone else it does not exist (404, never 403)."""
    if token_ok:
        return True
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return False
    from jasa.accounts.permissions import can
    from jasa.accounts.selectors import membership_for

    return client.user_id == user.pk or can(membership_for(user, workspace), "payments.view")


def _spells_nul(body: bytes) -> bool:
    """Whether the JSON body holds a NUL character in a string. PostgreSQL stores none in text or jsonb (the
    insert would fail: a 500), and no gateway sends one, so such a body is refused on every database alike.
    Only a body that spells one (``\\u0000``) is parsed here: the usual delivery costs one byte search."""
    if b"\\u0000" not in body:
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False  # not JSON: the adapter refuses it as malformed
    stack = [parsed]
    while stack:
        value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _receipt_for(request, receipt_id) -> Receipt:
    receipt = get_object_or_404(Receipt.objects.select_related("invoice__client", "workspace", "payment"),
                                pk=receipt_id)
    if not may_open(request, token_ok=token_ok(str(receipt.pk), request.GET.get("t", "")),
                    workspace=receipt.workspace, client=receipt.invoice.client):
        raise Http404("No such receipt")
    return receipt


def _language(request, default: str) -> str:
    lang = request.GET.get("lang") or default or "id"
    return lang if lang in ("id", "en") else "id"


def receipt_view(request, receipt_id):
    receipt = _receipt_for(request, receipt_id)
    language = _language(request, receipt.invoice.client.language)
    with translation.override(language):
        ctx = receipt_context(receipt, language)
        ctx["pdf_url"] = request.get_full_path().replace(f"/receipts/{receipt.pk}/", f"/receipts/{receipt.pk}/pdf/", 1)
        ctx["invoice_links"] = invoice_document_urls(receipt.invoice)
        return render(request, "payments/receipt.html", ctx)


def receipt_pdf_view(request, receipt_id):
    receipt = _receipt_for(request, receipt_id)
    language = _language(request, receipt.invoice.client.language)
    return _pdf(receipt_pdf(receipt, language), f"{receipt.number.replace('/', '-')}.pdf")


def _invoice_for(request, invoice_id) -> Invoice:
    """An issued invoice (a draft has no number and is no document yet)."""
    invoice = get_object_or_404(Invoice.objects.select_related("client", "workspace").exclude(
        status=InvoiceStatus.DRAFT), pk=invoice_id)
    if not may_open(request, token_ok=invoice_token_ok(invoice.pk, request.GET.get("t", "")),
                    workspace=invoice.workspace, client=invoice.client):
        raise Http404("No such invoice")
    return invoice


def invoice_document_view(request, invoice_id):
    invoice = _invoice_for(request, invoice_id)
    language = _language(request, invoice.language)
    with translation.override(language):
        ctx = invoice_document_context(invoice, language)
        ctx["pdf_url"] = invoice_document_urls(invoice)["pdf_path"] + f"&lang={language}"
        return render(request, "payments/invoice.html", ctx)


def invoice_pdf_view(request, invoice_id):
    invoice = _invoice_for(request, invoice_id)
    return _pdf(invoice_pdf(invoice, _language(request, invoice.language)), pdf_filename(invoice))


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def bench_ping(request):
    """A trivial JSON view beside the webhook endpoint, for bench/webhooks.py (DEBUG or JASA_BENCH only)."""
    return JsonResponse({"ok": True})
