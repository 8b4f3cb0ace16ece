"""Reads of the payment core, always scoped to a workspace."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from jasa.core import clock
from jasa.core.errors import NotFound
from jasa.payments.gateways.base import SetupStatus
from jasa.payments.models import (
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    LedgerKind,
    PaymentIntent,
    Receipt,
    Refund,
    SavedMethodSetup,
    SavedPaymentMethod,
    WebhookEvent,
)


def invoices(workspace, *, status: str | None = None, client=None, number: str = "",
             overdue: bool = False) -> QuerySet[Invoice]:
    """By status, client, part of the number, and "overdue" (open, due date passed); newest first."""
    qs = Invoice.objects.filter(workspace=workspace).select_related("client").prefetch_related("lines")
    if status:
        qs = qs.filter(status=status)
    if client is not None:
        qs = qs.filter(client=client)
    if number.strip():
        qs = qs.filter(number__icontains=number.strip())
    if overdue:
        qs = qs.filter(status=InvoiceStatus.OPEN, due_at__lt=clock.now())
    return qs.order_by("-created_at")


def is_overdue(invoice: Invoice) -> bool:
    return invoice.status == InvoiceStatus.OPEN and invoice.due_at is not None and invoice.due_at < clock.now()


def invoice_get(workspace, invoice_id) -> Invoice:
    invoice = invoices(workspace).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("No such invoice."))
    return invoice


def payments(workspace, *, status: str | None = None, method: str | None = None, gateway: str | None = None,
             since: dt.datetime | None = None, until: dt.datetime | None = None,
             invoice=None) -> QuerySet[PaymentIntent]:
    qs = PaymentIntent.objects.filter(workspace=workspace).select_related("invoice__client")
    if status:
        qs = qs.filter(status=status)
    if method:
        qs = qs.filter(method=method)
    if gateway:
        qs = qs.filter(gateway=gateway)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    if invoice is not None:
        qs = qs.filter(invoice=invoice)
    return qs.order_by("-created_at")


def payment_get(workspace, payment_id) -> PaymentIntent:
    payment = payments(workspace).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(_("No such payment."))
    return payment


def refunds(workspace, *, payment=None) -> QuerySet[Refund]:
    qs = Refund.objects.filter(workspace=workspace).select_related("payment")
    if payment is not None:
        qs = qs.filter(payment=payment)
    return qs.order_by("-created_at")


def saved_methods(workspace, *, client=None, active_only: bool = True) -> QuerySet[SavedPaymentMethod]:
    qs = SavedPaymentMethod.objects.filter(workspace=workspace).select_related("client")
    if client is not None:
        qs = qs.filter(client=client)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("-created_at")


def saved_method_get(workspace, saved_id) -> SavedPaymentMethod:
    saved = saved_methods(workspace, active_only=False).filter(pk=saved_id).first()
    if saved is None:
        raise NotFound(_("No such saved payment method."))
    return saved


def receipts_for_client(workspace, client) -> QuerySet[Receipt]:
    return Receipt.objects.filter(workspace=workspace, invoice__client=client).select_related("invoice")


def method_not_enabled_warning(payment: PaymentIntent, language: str) -> dict[str, str] | None:
    """What the staff page warns about when the gateway collected this payment by a method the business had
    not enabled (recorded by services._warn_if_method_not_enabled): the method's code and label; else None."""
    from jasa.core.audit import for_object
    from jasa.payments.documents import method_label

    entry = for_object(payment).filter(action="payment.method_not_enabled").order_by("-created_at").first()
    if entry is None or not entry.after:
        return None
    method = str(entry.after.get("method") or "")
    return {"method": method, "label": method_label(method, language)}


def payment_timeline(payment: PaymentIntent) -> list[dict[str, Any]]:
    """Ledger entries, webhooks received and audit entries of one payment, oldest first."""
    from jasa.core.audit import for_object

    items: list[dict[str, Any]] = []
    for entry in payment.ledger.all():
        items.append({"at": entry.created_at, "type": "ledger", "label": entry.get_kind_display(),
                      "money": entry.money, "detail": entry.key})
    for event in WebhookEvent.objects.filter(payment=payment):
        items.append({"at": event.received_at, "type": "webhook", "label": f"{event.gateway}: {event.kind}",
                      "money": None, "detail": f"{event.event_id} · {event.claimed_status} · {event.state}"})
    for entry in for_object(payment):
        items.append({"at": entry.created_at, "type": "audit", "label": entry.action, "money": None,
                      "detail": f"{entry.actor_label} {entry.before or ''} → {entry.after or ''}"})
    for refund in payment.refunds.all():
        for entry in for_object(refund):
            items.append({"at": entry.created_at, "type": "audit", "label": entry.action, "money": refund.amount,
                          "detail": f"{entry.actor_label} · {refund.reason}"})
    items.sort(key=lambda item: item["at"])
    return items


def report_by_day_and_method(workspace, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Gross, fee, refunds and net per day (workspace zone) and method, from the ledger."""
    tz = workspace.tz
    rows: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: {"gross": 0, "fee": 0, "refunded": 0})
    entries = LedgerEntry.objects.filter(workspace=workspace, created_at__gte=since, created_at__lt=until).exclude(
        kind__in=[LedgerKind.FAILED, LedgerKind.AUTHORIZED, LedgerKind.SETTLED])
    for entry in entries.only("created_at", "kind", "amount", "currency", "method"):
        key = (entry.created_at.astimezone(tz).date().isoformat(), entry.method or "-", entry.currency)
        if entry.kind == LedgerKind.CAPTURED:
            rows[key]["gross"] += entry.amount
        elif entry.kind == LedgerKind.GATEWAY_FEE:
            rows[key]["fee"] += entry.amount
        else:  # refunded, chargeback
            rows[key]["refunded"] += entry.amount
    out = []
    for (day, method, currency), v in sorted(rows.items()):
        out.append({"day": day, "method": method, "currency": currency, **v,
                    "net": v["gross"] - v["fee"] - v["refunded"]})
    return out


def owed_refunds(invoice) -> list:
    """An invoice's refunds waiting for a bank transfer (with the client's account once given)."""
    from jasa.payments.models import Refund, RefundChannel, RefundStatus

    if invoice is None:
        return []
    return list(Refund.objects.filter(payment__invoice=invoice, channel=RefundChannel.BANK_TRANSFER,
                                      status=RefundStatus.PENDING).select_related("payment").order_by("created_at"))


# --- the webhooks screen ------------------------------------------------------------------------
# Only events with a workspace are shown: it is set when an event is processed (or fails) against
# one of the workspace's payments. Events still "received", or naming no known payment, belong to
# no workspace yet and are never shown to any.

WEBHOOK_STATES = (WebhookEvent.RECEIVED, WebhookEvent.PROCESSED, WebhookEvent.IGNORED, WebhookEvent.FAILED)
SILENT_AFTER = dt.timedelta(hours=24)


def webhook_events(workspace, *, gateway: str = "", state: str = "") -> QuerySet[WebhookEvent]:
    """The workspace's stored gateway notifications, by gateway and state; newest first."""
    qs = WebhookEvent.objects.filter(workspace=workspace).select_related("payment")
    if gateway:
        qs = qs.filter(gateway=gateway)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-received_at", "-id")


def webhook_event_get(workspace, event_id) -> WebhookEvent:
    event = webhook_events(workspace).filter(pk=event_id).first()
    if event is None:
        raise NotFound(_("No such webhook event."))
    return event


def webhook_summary(workspace) -> dict[str, Any]:
    """For the top of the webhooks screen: per gateway the workspace uses (its accounts and the
    sandbox) the last event received and the payments sent to it in the last 24 h, ``silent`` when
    an enabled account got payments but no event in that time; and counts by state in the last 24 h."""
    from django.db.models import Count, Max

    from jasa.payments.connect import SANDBOX
    from jasa.payments.models import GatewayAccount

    since = clock.now() - SILENT_AFTER
    enabled = dict(GatewayAccount.objects.filter(workspace=workspace).values_list("gateway", "enabled"))
    names = sorted(enabled) + ([] if SANDBOX in enabled else [SANDBOX])
    events = WebhookEvent.objects.filter(workspace=workspace)
    last = dict(events.filter(gateway__in=names).values("gateway").annotate(last=Max("received_at"))
                .values_list("gateway", "last"))
    made = dict(PaymentIntent.objects.filter(workspace=workspace, gateway__in=names, submitted_at__gte=since)
                .values("gateway").annotate(n=Count("id")).values_list("gateway", "n"))
    gateways = []
    for name in names:
        last_at = last.get(name)
        gateways.append({
            "name": name, "account": name in enabled, "enabled": enabled.get(name, True),
            "last_received_at": last_at, "payments_24h": made.get(name, 0),
            "silent": bool(enabled.get(name)) and made.get(name, 0) > 0 and (last_at is None or last_at < since),
        })
    by_state = dict(events.filter(received_at__gte=since).values("state").annotate(n=Count("id"))
                    .values_list("state", "n"))
    return {"since": since, "gateways": gateways, "counts": {s: by_state.get(s, 0) for s in WEBHOOK_STATES}}


# --- saving a card without a payment (services_setup) ----------------------------------------------


def setup_for_reference(reference: str) -> SavedMethodSetup | None:
    """The setup a gateway's notification names by jasa's reference (its id), in any workspace: the
    webhook is verified, and the setup's own workspace then scopes everything done with it."""
    try:
        pk = uuid.UUID(reference)
    except (ValueError, TypeError, AttributeError):
        return None
    return SavedMethodSetup.objects.filter(pk=pk).first()


def setups_due_for_sync(quiet_since: dt.datetime, now: dt.datetime) -> QuerySet[SavedMethodSetup, Any]:
    """Ids of pending setups to ask their gateway about: not asked since ``quiet_since``, or past their time."""
    return (SavedMethodSetup.objects.filter(status=SetupStatus.PENDING.value)
            .filter(Q(expires_at__lte=now) | Q(last_synced_at__isnull=True, created_at__lte=quiet_since)
                    | Q(last_synced_at__lte=quiet_since))
            .order_by("created_at").values_list("pk", flat=True))


def client_setup(user, setup_id) -> SavedMethodSetup | None:
    """One of the signed-in user's own setups (in any business where they are a client); None for anyone else's."""
    return (SavedMethodSetup.objects.filter(pk=setup_id, client__user=user)
            .select_related("workspace", "client", "saved_method").first())


LEDGER_CHECK_STALE = dt.timedelta(hours=48)  # two missed daily checks


def ledger_health() -> str:
    """/healthz's ``ledger``: "ok" when the last daily ledger check (services_ledger) found nothing, else how
    many problems it found, or that it has not run lately. Instance-wide, so a count only, never which
    business. It informs and never fails /healthz: see jasa/payments/apps.py."""
    from jasa.payments.models import LedgerCheck

    run = LedgerCheck.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    if run is None:
        return "not checked yet"
    if run.problem_count:
        return f"{run.problem_count} problem{'s' if run.problem_count != 1 else ''}"
    age = clock.now() - run.started_at
    if age > LEDGER_CHECK_STALE:
        return f"not checked for {int(age.total_seconds() // 3600)} h"
    return "ok"
