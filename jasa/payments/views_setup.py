"""The portal's "Add a card": a signed-in client saves a card for a business without paying (services_setup).

The button (on the saved-methods page, with the consent text) posts here; the client goes to the gateway's
hosted page and comes back to the setup's page, which asks the gateway while it is pending and says what
happened and what to do next. Only the client whose setup it is may see it: anyone else gets a 404.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.accounts.selectors import client_records
from jasa.core.errors import JasaError
from jasa.payments.gateways.base import GatewayDeclined, GatewayError
from jasa.payments.models import SavedMethodSetup
from jasa.payments.selectors import client_setup
from jasa.payments.services import GatewayUnavailable
from jasa.payments.services_setup import saved_method_setup_start, saved_method_setup_sync
from jasa.payments.views_client import POLL_SECONDS, _expiry, _method_label


@login_required
@require_POST
def portal_method_add(request, client_id):
    """Start saving a card for one of the user's client records; off to the gateway's page."""
    client = get_object_or_404(client_records(request.user), pk=client_id)
    # the attempt id comes from the page: a double click starts one setup, not two
    attempt = (request.POST.get("attempt") or uuid.uuid4().hex)[:40]
    try:
        setup = saved_method_setup_start(client=client, idempotency_key=f"portal:{client.pk}:{attempt}")
    except GatewayUnavailable:
        messages.error(request, _("The payment gateway did not answer, so no card was saved. Please try again in a "
                                  "moment."))
        return redirect("payments:portal_methods")
    except JasaError as exc:
        messages.error(request, exc.message)
        return redirect("payments:portal_methods")
    if setup.is_pending and setup.redirect_url:
        return redirect(setup.redirect_url)
    return redirect("payments:portal_method_setup", setup_id=setup.pk)


def _setup_for(request, setup_id) -> SavedMethodSetup:
    setup = client_setup(request.user, setup_id)
    if setup is None:
        raise Http404("No such card setup")
    if setup.is_pending:  # the webhook may be late, lost or forged: the gateway's status API is the truth
        try:
            setup = saved_method_setup_sync(setup.pk)
        except (GatewayError, GatewayDeclined, JasaError):
            pass  # the page keeps polling; reconciliation keeps trying
    return setup


def _context(setup: SavedMethodSetup) -> dict:
    saved = setup.saved_method
    return {
        "setup": setup, "workspace": setup.workspace, "poll_seconds": POLL_SECONDS,
        "poll_url": reverse("payments:portal_method_setup_poll", args=[setup.pk]),
        "label": _method_label(saved) if saved else "", "expiry": _expiry(saved) if saved else "",
    }


@login_required
def portal_method_setup(request, setup_id):
    """Where the gateway sends the client back: pending (this page updates itself), saved, or not saved."""
    setup = _setup_for(request, setup_id)
    request.workspace = setup.workspace
    return render(request, "payments/client/method_setup.html", _context(setup))


@login_required
def portal_method_setup_poll(request, setup_id):
    """The htmx fragment polled while the setup is pending; without the trigger once it is final."""
    return render(request, "payments/client/_method_setup.html", _context(_setup_for(request, setup_id)))
