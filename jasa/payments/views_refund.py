"""The client's page for a refund owed by bank transfer: what is owed and why, and the form for the bank
account it goes to. Opened like the pay page: the same signed token (``?t=``, from the email), or the
invoice's client signed in (the portal). Staff with ``payments.view`` may look but not give an account."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jasa.core.errors import JasaError
from jasa.payments.forms_refund import RefundAccountForm
from jasa.payments.models import Refund, RefundChannel, RefundStatus
from jasa.payments.selectors import owed_refunds
from jasa.payments.services import refund_set_account
from jasa.payments.services_refund_notice import owed_reason
from jasa.payments.views_client import _invoice_for, _token_ok


def refund_account(request, invoice_id):
    invoice = _invoice_for(request, invoice_id)
    request.workspace = invoice.workspace
    token = request.GET.get("t", "")
    # a staff member may see the page (to help on the phone) but the account is the client's to give
    may_give = _token_ok(invoice.pk, token) or invoice.client.user_id == getattr(request.user, "pk", None)
    owed = owed_refunds(invoice)
    form = RefundAccountForm()
    if request.method == "POST":
        if not may_give:
            raise PermissionDenied(_("Only the client gives the bank account for their refund."))
        form = RefundAccountForm(request.POST)
        if _save(request, form, owed):
            return redirect(reverse("payments:refund_account", args=[invoice.pk]) + (f"?t={token}" if token else ""))
    lang = get_language() or "id"
    sent = Refund.objects.filter(payment__invoice=invoice, channel=RefundChannel.BANK_TRANSFER,
                                 status=RefundStatus.SUCCEEDED).order_by("created_at")
    return render(request, "payments/client/refund_account.html", {
        "invoice": invoice, "workspace": invoice.workspace, "form": form, "may_give": may_give,
        "owed": [{"refund": r, "amount": r.amount.format(lang), "reason": owed_reason(r, lang)} for r in owed],
        "needs_account": any(not r.has_account for r in owed),
        "sent": [{"refund": r, "amount": r.amount.format(lang)} for r in sent],
        "transfer_days": invoice.workspace.refund_transfer_days,
    }, status=400 if request.method == "POST" else 200)


def _save(request, form: RefundAccountForm, owed: list[Refund]) -> bool:
    if not owed:
        messages.error(request, _("No refund of this invoice is waiting for a bank account."))
        return False
    if not form.is_valid():
        messages.error(request, _("Check the bank account below: give the bank, the account number (5 to 20 "
                                  "digits) and the account holder's name."))
        return False
    try:
        for refund in owed:
            refund_set_account(refund=refund, **form.cleaned_data)
    except JasaError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, _("Thank you. We will transfer your refund to this account and email you a receipt "
                                "once it is sent."))
    return True
