"""Public endpoints of the payment core: gateway webhooks and signed receipt links."""

from __future__ import annotations

import json
import logging

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jasa.payments.gateways.base import WebhookRejected
from jasa.payments.models import Receipt
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


def _receipt_for(request, receipt_id) -> Receipt:
    receipt = get_object_or_404(Receipt.objects.select_related("invoice__client", "workspace", "payment"),
                                pk=receipt_id)
    if token_ok(str(receipt.pk), request.GET.get("t", "")):
        return receipt
    user = request.user
    if getattr(user, "is_authenticated", False):
        from jasa.accounts.permissions import can
        from jasa.accounts.selectors import membership_for

        if receipt.invoice.client.user_id == user.pk or can(membership_for(user, receipt.workspace), "payments.view"):
            return receipt
    raise Http404("No such receipt")


def _language(request, receipt: Receipt) -> str:
    lang = request.GET.get("lang") or receipt.invoice.client.language or "id"
    return lang if lang in ("id", "en") else "id"


def receipt_view(request, receipt_id):
    receipt = _receipt_for(request, receipt_id)
    language = _language(request, receipt)
    with translation.override(language):
        ctx = receipt_context(receipt, language)
        ctx["pdf_url"] = request.get_full_path().replace(f"/receipts/{receipt.pk}/", f"/receipts/{receipt.pk}/pdf/", 1)
        return render(request, "payments/receipt.html", ctx)


def receipt_pdf_view(request, receipt_id):
    receipt = _receipt_for(request, receipt_id)
    language = _language(request, receipt)
    response = HttpResponse(receipt_pdf(receipt, language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipt.number.replace("/", "-")}.pdf"'
    return response


def bench_ping(request):
    """A trivial JSON view beside the webhook endpoint, for bench/webhooks.py (DEBUG or JASA_BENCH only)."""
    return JsonResponse({"ok": True})
