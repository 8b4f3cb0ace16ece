"""Staff screen "Webhooks": the gateway notifications stored for this workspace, a summary that
shows when they stop arriving, and "Retry" for one that failed (docs/payments.md, Webhooks screen)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jasa.accounts.permissions import can
from jasa.core.errors import JasaError, NotFound
from jasa.payments import selectors, services
from jasa.payments.gateways.base import GatewayDeclined, GatewayError
from jasa.payments.models import WebhookEvent
from jasa.web.decorators import workspace_member

PAGE = 50
# Retrying re-reads the payment from the gateway and applies what it says (a capture, a refund) to
# the ledger: a money write of the payment core, so the payments write capability (owner, admin,
# finance). invoices.manage is about invoices' contents, not about what a gateway reports.
RETRY_CAPABILITY = "payments.refund"

STATE_LABELS = {
    WebhookEvent.RECEIVED: gettext_lazy("Received"),
    WebhookEvent.PROCESSED: gettext_lazy("Processed"),
    WebhookEvent.IGNORED: gettext_lazy("Ignored"),
    WebhookEvent.FAILED: gettext_lazy("Failed"),
}


class WebhookFilterForm(forms.Form):
    gateway = forms.ChoiceField(label=gettext_lazy("Gateway"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False,
                              choices=[("", gettext_lazy("any")), *STATE_LABELS.items()])

    def __init__(self, *args, gateways: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [("", _("any")), *((g, g) for g in gateways)]  # type: ignore[attr-defined]


def _viewer_zone(membership) -> ZoneInfo:
    """The member's own zone (their staff profile), else the business's. The same rule as
    jasa.bookings.availability.staff_zone, not imported: the payment core does not depend on bookings."""
    profile = getattr(membership, "profile", None)
    return ZoneInfo(getattr(profile, "time_zone", None) or membership.workspace.time_zone)


@workspace_member("payments.view")
def webhooks_list(request):
    workspace = request.workspace
    summary = selectors.webhook_summary(workspace)
    gateways = [g["name"] for g in summary["gateways"]]
    form = WebhookFilterForm(request.GET or None, gateways=gateways)
    if form.is_bound and not form.is_valid():
        events = WebhookEvent.objects.none()  # a filter that cannot be read matches nothing
    else:
        data = form.cleaned_data if form.is_bound else {}
        events = selectors.webhook_events(workspace, gateway=data.get("gateway", ""), state=data.get("state", ""))
    page = Paginator(events, PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "payments/staff/webhooks.html", {
        "form": form, "page": page, "query": query.urlencode(), "summary": summary,
        "counts": [(STATE_LABELS[s], s, n) for s, n in summary["counts"].items()],
        "silent": [g for g in summary["gateways"] if g["silent"]],
        "state_labels": STATE_LABELS, "tz": _viewer_zone(request.membership),
        "can_retry": can(request.membership, RETRY_CAPABILITY),
    })


@require_POST
@workspace_member(RETRY_CAPABILITY)
def webhook_retry(request, event_id: int):
    """Process a failed event again now (services.webhook_process is idempotent); the outcome as a message."""
    try:
        event = selectors.webhook_event_get(request.workspace, event_id)
    except NotFound:
        raise Http404("No such webhook event")
    back = redirect("payments:webhooks", ws=request.workspace.slug)
    if event.state != WebhookEvent.FAILED:
        messages.info(request, _("This event is %(state)s: there is nothing to retry.")
                      % {"state": STATE_LABELS.get(event.state, event.state)})
        return back
    try:
        event = services.webhook_process(event.pk)
    except (GatewayError, GatewayDeclined, JasaError) as exc:
        messages.error(request, _("The gateway did not answer: %(error)s. The event stays failed; reconciliation "
                                  "tries it again every 2 minutes, or retry later.") % {"error": exc})
        return back
    if event.state == WebhookEvent.PROCESSED and event.payment_id is not None:
        payment = selectors.payment_get(request.workspace, event.payment_id)  # as the re-read left it
        messages.success(request, _("Event processed: the payment was read again from the gateway and is now "
                                    "%(status)s.") % {"status": payment.get_status_display()})
    else:
        messages.warning(request, _("Event %(state)s: %(error)s")
                         % {"state": STATE_LABELS.get(event.state, event.state), "error": event.error})
    return back
