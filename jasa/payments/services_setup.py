"""Saving a card without a payment (a setup): for a subscription's trial, or to change the card.

The same crash-safe order as a payment (services.py): ``saved_method_setup_start`` commits a ``pending``
SavedMethodSetup first (its id is the reference and the gateway's idempotency key), calls the adapter's
``start_setup`` outside any transaction, then applies the answer under the row's lock. The client enters
the card on the gateway's hosted page; the gateway's word (``get_setup``) decides, read when the client
comes back, when a webhook says something happened (a trigger, not the truth) and by reconciliation.
A setup leaves ``pending`` once: succeeded (the token is kept as a SavedPaymentMethod whose ``consent_at``
is the setup's), failed, canceled or expired (an hour without an answer: cancelled at the gateway first,
so the client cannot finish it after jasa gave up).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jasa.core import audit, clock
from jasa.core.errors import Conflict, ValidationError
from jasa.payments import signals, wording
from jasa.payments.connect import account_for, gateway_for, notification_url
from jasa.payments.gateways.base import (
    GatewayDeclined,
    GatewayError,
    GatewaySetup,
    PaymentNotFound,
    SetupRequest,
    SetupStatus,
    saves_without_payment,
)
from jasa.payments.models import SavedMethodSetup, SavedPaymentMethod
from jasa.payments.selectors import setups_due_for_sync
from jasa.payments.services import (
    CREATE_GRACE,
    GatewayUnavailable,
    resync_each,
    saved_method_record,
    unavailable_message,
)
from jasa.payments.services_methods import setup_gateway

log = logging.getLogger(__name__)

SETUP_EXPIRY = dt.timedelta(hours=1)  # the hosted page stays open this long (Stripe: at least 30 minutes)
SETUP_EXPECTED = dt.timedelta(minutes=10)  # reconciliation asks about a pending setup not heard of this long
# stored in English on the setup; the portal translates them with {% translate %}
NOT_SENT = gettext_noop("The payment gateway never received this request.")
NOT_FOUND = gettext_noop("The payment gateway no longer knows this request.")


def saved_method_setup_start(*, client, idempotency_key: str, return_url: str = "") -> SavedMethodSetup:
    """Start saving a card for ``client`` at their business's gateway; the client has just agreed (on jasa's
    page, with the consent text) that the business may charge it later. Same key -> the same setup.

    ``return_url``: where the gateway sends the client back; by default the portal's page for this setup.
    The answer is ``pending`` with ``redirect_url`` (the gateway's page), or ``failed`` when it refused."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        raise ValidationError(_("An idempotency key of 1 to 200 characters is required."), field="idempotency_key")
    setup = SavedMethodSetup.objects.filter(workspace_id=client.workspace_id, idempotency_key=key).first()
    if setup is None:
        setup = _create(client, key, return_url)
    elif setup.client_id != client.pk:
        raise Conflict(_("This idempotency key was used for another client."))
    if setup.is_pending and setup.submitted_at is None:
        setup = _submit(setup)
    return setup


def _create(client, key: str, return_url: str) -> SavedMethodSetup:
    workspace = client.workspace
    gateway = setup_gateway(workspace)
    if gateway is None:
        raise ValidationError(_("%(business)s cannot save a card without a payment; you can save your card when "
                                "you next pay by card.") % {"business": workspace.name}, field="gateway")
    now = clock.now()
    setup = SavedMethodSetup(workspace=workspace, client=client, gateway=gateway,
                             gateway_account=account_for(workspace, gateway), idempotency_key=key,
                             return_url=return_url, consent_at=now, expires_at=now + SETUP_EXPIRY)
    try:
        with transaction.atomic():
            setup.save()
            audit.record(setup, "saved_method_setup.start", after={"gateway": gateway, "consent_at": now})
    except IntegrityError:  # the same key, started concurrently
        existing = SavedMethodSetup.objects.filter(workspace_id=workspace.pk, idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return setup


def _request_for(setup: SavedMethodSetup) -> SetupRequest:
    client = setup.client
    workspace = setup.workspace
    tokens = (SavedPaymentMethod.objects.filter(workspace=workspace, client=client, gateway=setup.gateway,
                                                is_active=True)
              .order_by("-consent_at").values_list("token", flat=True))
    return_url = setup.return_url or settings.SITE_URL + reverse("payments:portal_method_setup", args=[setup.pk])
    remaining = int((setup.expires_at - clock.now()).total_seconds())
    return SetupRequest(
        reference=setup.reference, currency=workspace.currency, description=workspace.name[:250],
        customer_name=client.name, customer_email=client.email, return_url=return_url,
        notification_url=notification_url(setup.gateway), expires_in_seconds=max(remaining, 1),
        saved_tokens=tuple(tokens), metadata={"workspace": str(workspace.pk), "client": str(client.pk)},
    )


def _adapter(setup: SavedMethodSetup):
    adapter = gateway_for(setup.workspace, setup.gateway)  # ValidationError if since removed or switched off
    if not saves_without_payment(adapter):
        raise ValidationError(_("%(gateway)s cannot save a card without a payment.") % {
            "gateway": wording.gateway(setup.gateway)}, field="gateway")
    return adapter


def _submit(setup: SavedMethodSetup) -> SavedMethodSetup:
    """Call the gateway (no transaction open, no lock held), then apply its answer under the row's lock."""
    setup = SavedMethodSetup.objects.select_related("workspace", "client").get(pk=setup.pk)
    adapter = _adapter(setup)
    try:
        result = adapter.start_setup(_request_for(setup))
    except GatewayError as exc:
        # Nothing is known: the row stays pending and unsubmitted; a retry with the same key or
        # reconciliation finishes it.
        raise GatewayUnavailable(unavailable_message(exc))
    except GatewayDeclined as exc:
        return _finish_without_answer(setup.pk, SetupStatus.FAILED, code=exc.code or "declined", message=str(exc))
    return _apply(setup.pk, result)


def saved_method_setup_sync(setup_id) -> SavedMethodSetup:
    """Re-read a pending setup from its gateway (the source of truth) and apply what it says; past its
    time, cancel it there first. A finished setup is returned as it is: nothing moves it any more."""
    setup = SavedMethodSetup.objects.select_related("workspace", "client").get(pk=setup_id)
    if not setup.is_pending:
        return setup
    adapter = _adapter(setup)
    expired = clock.now() >= setup.expires_at
    try:
        result = adapter.get_setup(setup.reference, gateway_reference=setup.gateway_reference)
        if result.status is SetupStatus.PENDING and expired:
            try:
                result = adapter.cancel_setup(setup.reference, gateway_reference=setup.gateway_reference)
            except GatewayDeclined:  # not cancellable (finishing meanwhile?): the gateway's current word decides
                result = adapter.get_setup(setup.reference, gateway_reference=setup.gateway_reference)
            if result.status in (SetupStatus.PENDING, SetupStatus.CANCELED):
                result = dataclasses.replace(result, status=SetupStatus.EXPIRED)
    except PaymentNotFound:
        # The start never reached the gateway (or its answer was lost): once it cannot be in flight, give up.
        # Past its time, one the gateway no longer knows is over too.
        never_sent = setup.submitted_at is None
        if expired or (never_sent and clock.now() - setup.created_at > CREATE_GRACE):
            return _finish_without_answer(
                setup.pk, SetupStatus.EXPIRED if expired else SetupStatus.FAILED,
                code="not_submitted" if never_sent else "not_found", message=NOT_SENT if never_sent else NOT_FOUND)
        return setup
    except GatewayError as exc:
        raise GatewayUnavailable(unavailable_message(exc))
    return _apply(setup.pk, result)


def _apply(setup_id, result: GatewaySetup) -> SavedMethodSetup:
    """Apply a gateway's answer under the setup's row lock. Forward only; idempotent; signals once."""
    with transaction.atomic():
        setup = SavedMethodSetup.objects.select_for_update().select_related("client").get(pk=setup_id)
        now = clock.now()
        setup.last_synced_at = now
        setup.submitted_at = setup.submitted_at or now
        if result.gateway_reference and not setup.gateway_reference:
            setup.gateway_reference = result.gateway_reference[:200]
        if setup.is_pending:
            if result.redirect_url:
                setup.redirect_url = result.redirect_url[:1000]
            if result.failure_code or result.failure_message:  # a declined attempt; the page may still take another
                setup.failure_code = result.failure_code[:100]
                setup.failure_message = result.failure_message[:500]
            if result.status is SetupStatus.SUCCEEDED:
                assert result.saved_method is not None  # adapters report success with its token
                setup.saved_method = saved_method_record(
                    workspace_id=setup.workspace_id, gateway=setup.gateway, client=setup.client,
                    token=result.saved_method, consent_at=setup.consent_at)
                setup.failure_code = setup.failure_message = ""
            if result.status is not SetupStatus.PENDING:
                _finish(setup, result.status)
        setup.save()
    return setup


def _finish_without_answer(setup_id, status: SetupStatus, *, code: str, message: str) -> SavedMethodSetup:
    with transaction.atomic():
        setup = SavedMethodSetup.objects.select_for_update().get(pk=setup_id)
        if setup.is_pending:
            setup.failure_code, setup.failure_message = code[:100], message[:500]
            _finish(setup, status)
            setup.save()
    return setup


def _finish(setup: SavedMethodSetup, status: SetupStatus) -> None:
    """pending -> ``status`` on a locked row: audited, and announced once after commit."""
    setup.status = status.value
    setup.finished_at = clock.now()
    audit.record(setup, f"saved_method_setup.{status.value}", before={"status": SetupStatus.PENDING.value},
                 after={"status": status.value, "saved_method": str(setup.saved_method_id or "")})
    transaction.on_commit(lambda: _announce(setup.pk))


def _announce(setup_id) -> None:
    setup = SavedMethodSetup.objects.select_related("saved_method").get(pk=setup_id)
    for receiver, response in signals.saved_method_setup_finished.send_robust(sender=SavedMethodSetup, setup=setup):
        if isinstance(response, Exception):
            log.error("receiver %s of saved_method_setup_finished failed: %r", receiver, response, exc_info=response)


def saved_method_setups_reconcile(limit: int = 200) -> dict[str, int]:
    """Re-read pending setups not heard of for SETUP_EXPECTED, and expire those past their time (run
    periodically): a client who closed the gateway's page, or a webhook that never came."""
    now = clock.now()
    counts = {"checked": 0, "finished": 0, "errors": 0}
    batch = list(setups_due_for_sync(now - SETUP_EXPECTED, now)[:limit])
    for _setup_id, after in resync_each(SavedMethodSetup, batch, saved_method_setup_sync, now, counts):
        counts["finished"] += not after.is_pending
    return counts
