"""The sandbox gateway's pages: hosted checkout (every method), 3-D Secure, QR image, faults switchboard.

These pages play the gateway's part: the card form posts here, to the sandbox, and only brand,
last 4 digits and expiry are kept. jasa's own pages never see a card number.
"""

from __future__ import annotations

import io

import qrcode
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.core.money import Money
from jasa.payments.gateways.base import Method
from jasa.sandbox import methods, services
from jasa.sandbox.faults import ApiError
from jasa.sandbox.models import SandboxFaults, SandboxPayment
from jasa.sandbox.selectors import (
    fault_targets,
    offered_methods,
    payment_by_instrument,
    payment_by_ref,
    surcharge_of,
    workspace_of,
)


def _payment_or_404(ref: str) -> SandboxPayment:
    payment = payment_by_ref(ref)
    if payment is None:
        raise Http404("No such payment")
    return payment


def checkout(request, ref: str):
    payment = _payment_or_404(ref)
    payment = services.payment_expire_if_due(payment.pk) or payment
    workspace = workspace_of(payment)
    request.workspace = workspace  # the business's name and colour on the gateway page
    lang = get_language() or "id"
    offered = offered_methods(payment, workspace)
    surcharge = surcharge_of(payment, workspace)
    context = {
        "payment": payment,
        "workspace": workspace,
        "amount": payment.amount.format(lang),
        "surcharge": Money(surcharge, payment.currency).format(lang) if surcharge else "",
        "refund_policy": workspace.text("refund_policy", lang) if workspace else "",
        "groups": methods.grouped(offered),
        "method_label": methods.LABELS.get(Method(payment.method), "") if payment.method else "",
        "family": payment.family,
        "test_cards": methods.TEST_CARDS.values(),
        "otp_hint": methods.OTP,
        "biller_code": methods.MANDIRI_BILLER_CODE,
        "can_simulate": not payment.livemode and payment.family in ("va", "qris", "store"),
    }
    return render(request, "sandbox/checkout.html", context)


def _act(request, ref: str, action) -> HttpResponse:
    """Run one sandbox action; a refusal becomes a message on the checkout page, never a 5xx."""
    payment = _payment_or_404(ref)
    try:
        action(payment)
    except ApiError as exc:
        messages.error(request, _api_message(exc))
    return redirect("sandbox:checkout", ref=payment.gateway_reference)


def _api_message(exc: ApiError) -> str:
    texts = {
        "invalid_number": _("Check the card number."),
        "invalid_expiry": _("Check the expiry date (MM/YY)."),
        "invalid_cvc": _("Check the security code (CVC)."),
        "not_pending": _("This payment can no longer be paid here."),
        "method_not_allowed": _("This method is not offered for this payment."),
    }
    return str(texts.get(exc.code, exc.message))


@require_POST
def choose_method(request, ref: str):
    method = request.POST.get("method", "")

    def choose(payment):
        if method not in offered_methods(payment, workspace_of(payment)):
            raise ApiError(400, "method_not_allowed", "this method is not offered for this payment")
        services.payment_choose_method(payment.pk, method)

    return _act(request, ref, choose)


class CardForm(forms.Form):
    number = forms.CharField(max_length=30)
    expiry = forms.RegexField(regex=r"^\s*(0[1-9]|1[0-2])\s*/\s*(\d{2}|\d{4})\s*$", max_length=9)
    cvc = forms.RegexField(regex=r"^\d{3,4}$", max_length=4)


@require_POST
def pay_card(request, ref: str):
    form = CardForm(request.POST)
    if not form.is_valid():
        payment = _payment_or_404(ref)
        messages.error(request, _("Check the card number, expiry date (MM/YY) and security code."))
        return redirect("sandbox:checkout", ref=payment.gateway_reference)
    month, year = (part.strip() for part in form.cleaned_data["expiry"].split("/"))
    exp_year = int(year) + (2000 if len(year) == 2 else 0)
    return _act(request, ref, lambda p: services.payment_pay_card(
        p.pk, number=form.cleaned_data["number"], exp_month=int(month), exp_year=exp_year,
        cvc=form.cleaned_data["cvc"]))


@require_POST
def submit_otp(request, ref: str):
    def check(payment):
        payment, ok = services.payment_submit_otp(payment.pk, request.POST.get("otp", ""))
        if not ok and payment.status == SandboxPayment.PENDING:
            messages.error(request, _("Wrong one-time password. Try again."))

    return _act(request, ref, check)


@require_POST
def ewallet(request, ref: str):
    approve = request.POST.get("decision") == "approve"
    return _act(request, ref, lambda p: services.payment_ewallet_decide(p.pk, approve=approve))


@require_POST
def simulate(request, ref: str):
    return _act(request, ref, lambda p: services.payment_simulate(p.pk))


class SimulatorForm(forms.Form):
    code = forms.CharField(max_length=500, strip=True)


def simulator(request):
    """The sandbox's payment simulator: pay a VA number, a store payment code or a QRIS payload by
    typing it, as a bank app, a cashier or a QR scanner would (test mode payments only)."""
    form = SimulatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        payment = payment_by_instrument(form.cleaned_data["code"])
        if payment is None:
            messages.error(request, _("No open test payment has this number or code."))
        else:
            try:
                services.payment_simulate(payment.pk)
            except ApiError as exc:
                messages.error(request, _api_message(exc))
            else:
                messages.success(request, _("Paid: %(amount)s.") % {"amount": payment.amount.format(get_language())})
                return redirect("sandbox:simulator")
    return render(request, "sandbox/simulator.html", {"form": form})


def qr_png(request, ref: str):
    payment = _payment_or_404(ref)
    if not payment.qr_string:
        raise Http404("No QR code for this payment")
    image = qrcode.make(payment.qr_string, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=900"
    return response


class FaultsForm(forms.ModelForm):
    class Meta:
        model = SandboxFaults
        fields = ["webhook_duplicate", "webhook_out_of_order", "webhook_delay_seconds", "webhook_forged",
                  "webhook_lost", "api_fault", "api_fault_calls", "refund_fail"]


@login_required
def faults(request):
    """Switch the sandbox's faults for a merchant the user manages (or, for superusers, globally)."""
    targets = dict(fault_targets(request.user))  # key -> merchant (None: the global row)
    if not targets:
        return render(request, "web/forbidden.html", {"capability": "gateways.manage"}, status=403)
    key = request.GET.get("merchant") or request.POST.get("merchant") or ""
    if key not in targets:
        key = next(iter(targets))
    merchant = targets[key]
    instance = SandboxFaults.objects.filter(merchant=merchant).first() or SandboxFaults(merchant=merchant)
    if request.method == "POST":
        form = FaultsForm(request.POST, instance=instance)
        if form.is_valid():
            services.faults_save(form.instance)
            messages.success(request, _("Sandbox faults saved."))
            return redirect(f"{request.path}?merchant={key}")
    else:
        form = FaultsForm(instance=instance)
    return render(request, "sandbox/faults.html", {
        "form": form, "targets": [(k, str(m) if m else _("All merchants (global)")) for k, m in targets.items()],
        "chosen": key,
    })
