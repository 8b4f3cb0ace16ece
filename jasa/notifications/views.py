"""Staff page: a workspace's outbox (what was sent, what failed and why) with retry."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.core.errors import Conflict
from jasa.notifications import selectors, services
from jasa.notifications.models import OutboxMessage
from jasa.web.decorators import workspace_member

CAPABILITY = "workspace.manage"


@workspace_member(CAPABILITY)
def outbox(request):
    status = request.GET.get("status") or None
    if status not in dict(OutboxMessage.STATUSES):
        status = None
    page = Paginator(selectors.outbox_for(request.workspace, status=status), 50).get_page(request.GET.get("page"))
    return render(request, "notifications/outbox.html", {
        "page": page, "status": status, "statuses": OutboxMessage.STATUSES,
    })


@require_POST
@workspace_member(CAPABILITY)
def outbox_retry(request, message_id):
    message = selectors.outbox_message(request.workspace, message_id)
    if message is None:
        raise Http404("No such message")
    try:
        services.outbox_retry(message)
        messages.success(request, _("The message is queued for sending again."))
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("notifications:outbox", ws=request.workspace.slug)


@require_POST
@workspace_member(CAPABILITY)
def outbox_test(request):
    """Send the test message to the staff member: proves the email settings work."""
    services.notify(
        workspace=request.workspace, channel="email", recipient=request.user.email,
        template="notifications.test", context={"recipient_name": request.user.name or request.user.email},
        language=request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("id", "en") else "id",
    )
    messages.success(request, _("A test message is on its way to %(email)s.") % {"email": request.user.email})
    return redirect("notifications:outbox", ws=request.workspace.slug)
