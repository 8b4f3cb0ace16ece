"""The staff "Webhooks" screen: only this workspace's processed events (never another's, never an
unscoped one), filters and pages, the 24 h summary and the silent-gateway warning, "Retry" of a
failed event against the in-test gateway, and who may see and retry."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from jasa.accounts.models import Membership
from jasa.core import clock
from jasa.payments.gateways.base import GatewayError, Status
from jasa.payments.models import WebhookEvent
from jasa.payments.services import GatewayUnavailable, payment_start, webhook_process, webhook_receive

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)


def url(ws, path=""):
    return f"/dashboard/{ws.slug}/payments/webhooks/{path}"


def event(payment, *, state=WebhookEvent.PROCESSED, gateway="testpay", ago=dt.timedelta(minutes=5), scoped=True,
          **fields):
    """A stored event as webhook_process leaves it (workspace and payment set), received ``ago``."""
    return WebhookEvent.objects.create(
        gateway=gateway, event_id=fields.pop("event_id", f"evt-{next(_ids)}"), reference=payment.reference,
        kind=fields.pop("kind", "payment"), claimed_status=fields.pop("claimed_status", "paid"), state=state,
        attempts=fields.pop("attempts", 1), received_at=clock.now() - ago,
        workspace=payment.workspace if scoped else None, payment=payment if scoped else None, **fields)


@pytest.fixture
def owner_client(ws, client):
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def payment(ws, invoice_factory, frozen_clock):
    return payment_start(invoice=invoice_factory(ws), idempotency_key="wh-screen", method="card")


@pytest.fixture
def foreign_payment(workspace_factory, invoice_factory, fakegw, frozen_clock):
    from jasa.payments.services_config import gateway_account_save

    other = workspace_factory()
    gateway_account_save(workspace=other, gateway="testpay", credentials={"key": "o"}, is_default=True)
    return payment_start(invoice=invoice_factory(other), idempotency_key="foreign", method="card")


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-event="([^"]+)"', page)


def count(page: str, state: str) -> int:
    found = re.search(rf'<tr data-state="{state}"><td>[^<]*</td><td data-count>(\d+)</td>', page)
    assert found, state
    return int(found.group(1))


def test_only_this_workspaces_processed_events_newest_first(owner_client, ws, payment, foreign_payment):
    older = event(payment, event_id="mine-older", ago=dt.timedelta(hours=2))
    newer = event(payment, event_id="mine-newer", state=WebhookEvent.FAILED, error="gateway timed out")
    event(foreign_payment, event_id="theirs")
    event(payment, event_id="unscoped-received", state=WebhookEvent.RECEIVED, scoped=False)
    event(payment, event_id="unscoped-ignored", state=WebhookEvent.IGNORED, scoped=False)
    response = owner_client.get(url(ws))
    assert response.status_code == 200
    page = response.content.decode()
    assert rows(page) == [newer.event_id, older.event_id]
    assert "theirs" not in page and "unscoped" not in page
    assert "gateway timed out" in page
    assert f"/dashboard/{ws.slug}/payments/{payment.pk}/" in page
    # the summary counts only this workspace's events too
    assert count(page, "processed") == 1 and count(page, "failed") == 1
    assert count(page, "received") == 0 and count(page, "ignored") == 0


def test_received_at_in_the_viewers_zone(owner_client, ws, payment):
    owner = Membership.objects.get(workspace=ws, role="owner")
    owner.profile.time_zone = "Asia/Jayapura"  # UTC+9
    owner.profile.save()
    event(payment, event_id="zoned", ago=dt.timedelta(0))  # 03:00 UTC
    page = owner_client.get(url(ws)).content.decode()
    assert "2 Dec 2026 12:00:00" in page


def test_filters_by_gateway_and_state_and_pages(owner_client, ws, payment):
    event(payment, event_id="ok-1")
    event(payment, event_id="bad-1", state=WebhookEvent.FAILED)
    event(payment, event_id="sand-1", gateway="sandbox")
    assert rows(owner_client.get(url(ws) + "?state=failed").content.decode()) == ["bad-1"]
    assert rows(owner_client.get(url(ws) + "?gateway=sandbox").content.decode()) == ["sand-1"]
    assert set(rows(owner_client.get(url(ws) + "?gateway=testpay&state=processed").content.decode())) == {"ok-1"}
    # an unreadable filter matches nothing rather than everything
    assert rows(owner_client.get(url(ws) + "?state=exploded").content.decode()) == []
    for n in range(60):
        event(payment, event_id=f"bulk-{n:02d}", ago=dt.timedelta(hours=1, minutes=n))
    first = owner_client.get(url(ws) + "?state=processed").content.decode()
    second = owner_client.get(url(ws) + "?state=processed&page=2").content.decode()
    assert len(rows(first)) == 50 and "page=2" in first and "state=processed" in first
    assert len(rows(second)) == 12 and not set(rows(first)) & set(rows(second))


def test_summary_counts_the_last_24_hours_and_last_event_per_gateway(owner_client, ws, payment):
    event(payment, event_id="new-ok")
    event(payment, event_id="new-bad", state=WebhookEvent.FAILED)
    event(payment, event_id="new-bad-2", state=WebhookEvent.FAILED, ago=dt.timedelta(hours=23))
    event(payment, event_id="old-ok", ago=dt.timedelta(hours=25))
    page = owner_client.get(url(ws)).content.decode()
    assert count(page, "processed") == 1 and count(page, "failed") == 2
    summary = re.search(r'<tr data-gateway="testpay">.*?<td data-last>([^<]+)</td>', page, re.S)
    assert summary and summary.group(1) == "2 Dec 2026 09:55"  # 02:55 UTC in Jakarta
    sandbox = re.search(r'<tr data-gateway="sandbox">.*?<td data-last>([^<]+)</td>', page, re.S)
    assert sandbox and sandbox.group(1).strip() == "never"
    assert "data-silent-gateway" not in page


def test_warns_when_an_enabled_gateway_is_silent_while_payments_are_made(owner_client, ws, payment):
    event(payment, event_id="yesterday", ago=dt.timedelta(hours=30))
    page = owner_client.get(url(ws)).content.decode()
    assert 'data-silent-gateway="testpay"' in page
    assert "docs/gateways.md" in page and "notification (webhook) URL" in page
    # not for the sandbox (no account) and not once an event arrived
    assert 'data-silent-gateway="sandbox"' not in page
    event(payment, event_id="today")
    assert "data-silent-gateway" not in owner_client.get(url(ws)).content.decode()


def test_no_warning_without_payments_or_for_a_switched_off_account(owner_client, ws, invoice_factory):
    from jasa.payments.models import GatewayAccount

    assert "data-silent-gateway" not in owner_client.get(url(ws)).content.decode()  # no payments, no events
    payment_start(invoice=invoice_factory(ws), idempotency_key="off", method="card")
    assert 'data-silent-gateway="testpay"' in owner_client.get(url(ws)).content.decode()
    GatewayAccount.objects.filter(workspace=ws).update(enabled=False)
    page = owner_client.get(url(ws)).content.decode()
    assert "data-silent-gateway" not in page and "switched off" in page


def test_retry_a_failed_event_first_failing_then_succeeding(owner_client, ws, payment, fakegw):
    headers, body = fakegw.webhook("evt-retry", payment.reference, status="paid")
    stored = webhook_receive("testpay", headers, body)
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    fakegw.fail_next.append(GatewayError("connection reset"))
    with pytest.raises(GatewayUnavailable):
        webhook_process(stored.pk)
    failed = WebhookEvent.objects.get(pk=stored.pk)
    assert failed.state == WebhookEvent.FAILED and failed.workspace_id == ws.pk
    page = owner_client.get(url(ws)).content.decode()
    assert 'data-retry="evt-retry"' in page and "csrfmiddlewaretoken" in page

    # the gateway is still down: a message saying so, never a 500
    fakegw.fail_next.append(GatewayError("gateway down"))
    response = owner_client.post(url(ws, f"{stored.pk}/retry/"), follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "The gateway did not answer" in text and "gateway down" in text
    failed.refresh_from_db()
    assert failed.state == WebhookEvent.FAILED and failed.attempts == 2

    # the gateway answers: processed, the payment applied
    response = owner_client.post(url(ws, f"{stored.pk}/retry/"), follow=True)
    assert "Event processed" in response.content.decode()
    failed.refresh_from_db()
    payment.refresh_from_db()
    assert failed.state == WebhookEvent.PROCESSED and failed.attempts == 3 and failed.error == ""
    assert payment.status == Status.SUCCEEDED

    # again: nothing to do, said so
    response = owner_client.post(url(ws, f"{stored.pk}/retry/"), follow=True)
    assert "nothing to retry" in response.content.decode()
    failed.refresh_from_db()
    assert failed.attempts == 3


def test_retry_needs_post_with_csrf_and_this_workspaces_event(ws, payment, foreign_payment, client):
    from django.test import Client

    mine = event(payment, state=WebhookEvent.FAILED)
    theirs = event(foreign_payment, state=WebhookEvent.FAILED)
    unscoped = event(payment, state=WebhookEvent.FAILED, scoped=False)
    owner = Membership.objects.get(workspace=ws, role="owner").user
    client.force_login(owner)
    assert client.get(url(ws, f"{mine.pk}/retry/")).status_code == 405
    assert client.post(url(ws, f"{theirs.pk}/retry/")).status_code == 404
    assert client.post(url(ws, f"{unscoped.pk}/retry/")).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(url(ws, f"{mine.pk}/retry/")).status_code == 403
    mine.refresh_from_db()
    assert mine.attempts == 1


@pytest.mark.parametrize("role, see, retry", [
    ("owner", 200, True), ("admin", 200, True), ("finance", 200, True), ("staff", 403, False),
])
def test_permission_matrix(ws, payment, client, member_factory, fakegw, role, see, retry):
    failed = event(payment, state=WebhookEvent.FAILED)
    membership = (Membership.objects.get(workspace=ws, role="owner") if role == "owner"
                  else member_factory(ws, role=role))
    client.force_login(membership.user)
    response = client.get(url(ws))
    assert response.status_code == see
    if see == 200:
        assert ('data-retry="' in response.content.decode()) is retry
        assert 'id="webhooks-link"' in client.get(f"/dashboard/{ws.slug}/payments/").content.decode()
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    response = client.post(url(ws, f"{failed.pk}/retry/"))
    failed.refresh_from_db()
    if retry:
        assert response.status_code == 302 and failed.state == WebhookEvent.PROCESSED
    else:
        assert response.status_code == 403 and failed.state == WebhookEvent.FAILED


def test_outsiders_clients_and_anonymous(ws, payment, client, user_factory):
    failed = event(payment, state=WebhookEvent.FAILED)
    response = client.get(url(ws))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(url(ws, f"{failed.pk}/retry/"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(user_factory())  # logged in, no membership (e.g. a client of the business)
    assert client.get(url(ws)).status_code == 404
    assert client.post(url(ws, f"{failed.pk}/retry/")).status_code == 404
    failed.refresh_from_db()
    assert failed.state == WebhookEvent.FAILED and failed.attempts == 1


def test_speaks_indonesian(owner_client, ws, payment):
    event(payment, event_id="kemarin", ago=dt.timedelta(hours=30), state=WebhookEvent.FAILED)
    page = owner_client.get(url(ws), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Tidak ada notifikasi dari testpay dalam 24 jam terakhir, padahal 1 pembayaran dikirim ke sana." in page
    assert "Periksa URL notifikasi (webhook)" in page and "Coba lagi" in page and "Gagal" in page
