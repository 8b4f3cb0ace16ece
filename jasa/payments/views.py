"""Staff screens of the payment core: payments list, a payment's timeline and refund, gateway/fee/tax
settings with "test connection", and reports (gross / fee / net per day and method, CSV)."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.accounts.permissions import can
from jasa.core import clock
from jasa.core.errors import JasaError, NotFound
from jasa.core.money import Money
from jasa.payments import selectors, services, services_config
from jasa.payments.fees import DEFAULT_FEES
from jasa.payments.forms import (
    CREDENTIAL_FIELDS,
    FeeRuleForm,
    GatewayAccountForm,
    PaymentFilterForm,
    RefundForm,
    TaxForm,
    TransferRefundForm,
)
from jasa.payments.gateways.base import GatewayDeclined, GatewayError
from jasa.payments.models import FeeRule, GatewayAccount
from jasa.web.decorators import workspace_member

PAGE = 100


def _payment_or_404(request, payment_id):
    try:
        return selectors.payment_get(request.workspace, payment_id)
    except NotFound:
        raise Http404("No such payment")


def _day_bounds(workspace, since: dt.date | None, until: dt.date | None) -> tuple[dt.datetime, dt.datetime]:
    """[since 00:00, until+1 00:00) in the workspace's zone, as aware datetimes."""
    tz = workspace.tz
    today = clock.today(tz)
    since = since or today - dt.timedelta(days=30)
    until = until or today
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


@workspace_member("payments.view")
def payments_list(request):
    workspace = request.workspace
    form = PaymentFilterForm(request.GET or None)
    filters: dict = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"status": data["status"] or None, "method": data["method"] or None}
        if data["since"] or data["until"]:
            filters["since"], filters["until"] = _day_bounds(workspace, data["since"], data["until"])
    rows = list(selectors.payments(workspace, **filters)[:PAGE])
    return render(request, "payments/staff/list.html", {"form": form, "payments": rows, "page": PAGE})


@workspace_member("payments.view")
def payment_detail(request, payment_id):
    payment = _payment_or_404(request, payment_id)
    return render(request, "payments/staff/detail.html", {
        "payment": payment,
        "invoice": payment.invoice,
        "amounts": services.invoice_amounts(payment.invoice),
        "timeline": selectors.payment_timeline(payment),
        "method_warning": selectors.method_not_enabled_warning(payment, get_language() or "id"),
        "refunds": list(payment.refunds.all()),
        "refund_form": RefundForm(initial={"amount": payment.gross_amount}),
        "can_refund": can(request.membership, "payments.refund")
        and payment.status in ("succeeded", "partially_refunded"),
        "can_refund_transfer": can(request.membership, "payments.refund"),
        "receipt": getattr(payment, "receipt", None),
    })


@require_POST
@workspace_member("payments.refund")
def payment_refund(request, payment_id):
    payment = _payment_or_404(request, payment_id)
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give an amount and a reason."))
        return redirect("payments:detail", ws=request.workspace.slug, payment_id=payment.pk)
    try:
        refund = services.payment_refund(
            payment=payment, amount=Money(form.cleaned_data["amount"], payment.currency),
            reason=form.cleaned_data["reason"], refund_key=request.POST.get("refund_key") or None,
        )
    except JasaError as exc:
        messages.error(request, exc.message)
    else:
        if refund.status == "failed":
            messages.error(request, _("The gateway could not refund: %(reason)s") % {"reason": refund.failure_message})
        else:
            messages.success(request, _("Refund of %(amount)s recorded (%(status)s).")
                             % {"amount": refund.amount.format(request.LANGUAGE_CODE), "status": refund.status})
    return redirect("payments:detail", ws=request.workspace.slug, payment_id=payment.pk)


@require_POST
@workspace_member("payments.refund")
def payment_refund_transfer(request, payment_id):
    """Record a refund paid by bank transfer; back to ``next`` (e.g. the booking) or the payment."""
    payment = _payment_or_404(request, payment_id)
    form = TransferRefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the amount, the transfer reference and a reason."))
    else:
        data = form.cleaned_data
        try:
            refund = services.refund_record_manual(
                payment=payment, amount=Money(data["amount"], payment.currency), reason=data["reason"],
                transfer_reference=data["transfer_reference"], refund_key=data["refund_key"] or None,
            )
        except JasaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Refund of %(amount)s by bank transfer recorded.")
                             % {"amount": refund.amount.format(request.LANGUAGE_CODE)})
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("payments:detail", ws=request.workspace.slug, payment_id=payment.pk)


@require_POST
@workspace_member("payments.view")
def payment_sync(request, payment_id):
    payment = _payment_or_404(request, payment_id)
    try:
        services.payment_sync(payment.pk)
        messages.success(request, _("Status read again from the gateway."))
    except (GatewayError, GatewayDeclined, JasaError) as exc:
        messages.error(request, _("The gateway did not answer: %(error)s") % {"error": exc})
    return redirect("payments:detail", ws=request.workspace.slug, payment_id=payment.pk)


@workspace_member("gateways.manage")
def gateway_settings(request):
    workspace = request.workspace
    account_form = GatewayAccountForm(prefix="gw")
    fee_form = FeeRuleForm(prefix="fee")
    tax = services.tax_settings_for(workspace)
    tax_form = TaxForm(prefix="tax", initial={"enabled": tax.enabled, "rate_percent": tax.rate_percent,
                                              "base_numerator": tax.base_numerator,
                                              "base_denominator": tax.base_denominator})
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "gateway":
                account_form = GatewayAccountForm(request.POST, prefix="gw")
                if account_form.is_valid():
                    d = account_form.cleaned_data
                    services_config.gateway_account_save(
                        workspace=workspace, gateway=d["gateway"], credentials=account_form.credentials(),
                        enabled=d["enabled"], is_default=d["is_default"], sandbox=d["sandbox"],
                        enabled_methods=d["enabled_methods"], fee_bearer=d["fee_bearer"])
                    messages.success(request, _("Gateway saved."))
                    return redirect("payments:settings", ws=workspace.slug)
            elif which == "fee":
                fee_form = FeeRuleForm(request.POST, prefix="fee")
                if fee_form.is_valid():
                    d = fee_form.cleaned_data
                    services_config.fee_rule_save(workspace=workspace, gateway=d["gateway"], method=d["method"],
                                                  percent=d["percent"], fixed=d["fixed"],
                                                  currency=workspace.currency)
                    messages.success(request, _("Fee saved."))
                    return redirect("payments:settings", ws=workspace.slug)
            elif which == "tax":
                tax_form = TaxForm(request.POST, prefix="tax")
                if tax_form.is_valid():
                    services_config.tax_settings_save(workspace=workspace, **tax_form.cleaned_data)
                    messages.success(request, _("Tax settings saved."))
                    return redirect("payments:settings", ws=workspace.slug)
        except JasaError as exc:
            messages.error(request, exc.message)
    return render(request, "payments/staff/settings.html", {
        "accounts": GatewayAccount.objects.filter(workspace=workspace).order_by("gateway"),
        "fee_rules": FeeRule.objects.filter(workspace=workspace).order_by("gateway", "method"),
        "default_fees": [{"gateway": gw, "method": m, "percent": f.percent_bp / 100, "fixed": f.fixed}
                         for (gw, m), f in DEFAULT_FEES.items()],
        "account_form": account_form, "fee_form": fee_form, "tax_form": tax_form,
        "credential_fields": CREDENTIAL_FIELDS,
    })


@require_POST
@workspace_member("gateways.manage")
def gateway_test(request, account_id):
    account = GatewayAccount.objects.filter(workspace=request.workspace, pk=account_id).first()
    if account is None:
        messages.error(request, _("No such gateway."))
    else:
        result = services_config.gateway_account_test(account)
        (messages.error if result.startswith("failed") else messages.success)(
            request, _("Test connection: %(result)s") % {"result": result})
    return redirect("payments:settings", ws=request.workspace.slug)


@workspace_member("reports.view")
def reports(request):
    workspace = request.workspace
    form = PaymentFilterForm(request.GET or None)
    since = until = None
    if form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    start, end = _day_bounds(workspace, since, until)
    rows = selectors.report_by_day_and_method(workspace, start, end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payments-{workspace.slug}.csv"'
        writer = csv.writer(response)
        writer.writerow(["day", "method", "currency", "gross", "fee", "refunded", "net"])
        for row in rows:
            writer.writerow([row["day"], row["method"], row["currency"], row["gross"], row["fee"],
                             row["refunded"], row["net"]])
        return response
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        t = totals.setdefault(row["currency"], {"gross": 0, "fee": 0, "refunded": 0, "net": 0})
        for k in t:
            t[k] += row[k]
    money_rows = [{**row, **{k: Money(row[k], row["currency"]) for k in ("gross", "fee", "refunded", "net")}}
                  for row in rows]
    money_totals = [{"currency": c, **{k: Money(v, c) for k, v in t.items()}} for c, t in totals.items()]
    return render(request, "payments/staff/reports.html", {
        "form": form, "rows": money_rows, "totals": money_totals, "start": start.date(),
        "end": (end - dt.timedelta(days=1)).date(), "query": request.GET.urlencode(),
    })
