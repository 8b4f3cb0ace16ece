"""Signed notifications: verification by the adapter, and delivery over HTTP with each fault."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from jasa.core import clock, jobs
from jasa.payments.gateways.base import Method, WebhookRejected
from jasa.sandbox import services, webhooks
from jasa.sandbox.models import SandboxFaults, SandboxPayment, SandboxWebhook

pytestmark = pytest.mark.django_db


def _signed(gateway, make_request):
    """A real notification of a real payment, as the sandbox would send it now."""
    request = make_request(method=Method.VA_BCA)
    gateway.create_direct(request)
    row = SandboxWebhook.objects.get(payment__reference=request.reference)
    headers, body = webhooks.build(row)
    return request, headers, body


def test_valid_notification_parses(gateway, make_request):
    request, headers, body = _signed(gateway, make_request)
    event = gateway.parse_webhook({k.lower(): v for k, v in headers.items()}, body)
    assert event.reference == request.reference and event.kind == "payment.pending"
    assert event.claimed_status == "pending" and event.event_id.startswith("evt_")


def test_forged_signature_is_rejected(gateway, make_request):
    _, headers, body = _signed(gateway, make_request)
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook({**headers, "X-Sandbox-Signature": webhooks.sign("guess", body)}, body)
    tampered = body.replace(b'"pending"', b'"paid"')
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook(headers, tampered)
    without = {k: v for k, v in headers.items() if k != "X-Sandbox-Signature"}
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook(without, body)


def test_stale_and_future_timestamps_are_rejected(gateway, make_request, frozen_clock):
    _, headers, body = _signed(gateway, make_request)
    clock.advance(dt.timedelta(minutes=4, seconds=59))
    gateway.parse_webhook(headers, body)  # within the 5 minutes
    clock.advance(dt.timedelta(seconds=2))
    with pytest.raises(WebhookRejected, match="stale"):
        gateway.parse_webhook(headers, body)
    clock.advance(-dt.timedelta(minutes=20))
    with pytest.raises(WebhookRejected, match="stale"):
        gateway.parse_webhook(headers, body)


@pytest.mark.parametrize("body", [b"not json", b"[]", b"{}", b'{"event_id": 1, "sent_at": "x", "data": {}}',
                                  b'{"event_id": "e", "sent_at": 1, "type": "t", "data": {"reference": 5}}'])
def test_malformed_bodies_are_rejected_even_when_signed(gateway, merchant, body):
    headers = {"X-Sandbox-Signature": webhooks.sign(merchant.secret_key, body), "X-Sandbox-Event-Id": "e",
               "X-Sandbox-Timestamp": "1"}
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook(headers, body)


def test_headers_must_match_the_signed_body(gateway, make_request):
    _, headers, body = _signed(gateway, make_request)
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook({**headers, "X-Sandbox-Event-Id": "evt_other"}, body)
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook({**headers, "X-Sandbox-Timestamp": "1"}, body)


def test_another_merchants_notification_is_rejected(gateway, make_request, workspace_factory):
    from jasa.payments.gateways.sandbox import SandboxGateway

    _, headers, body = _signed(gateway, make_request)
    other = services.merchant_for_workspace(workspace_factory())
    with pytest.raises(WebhookRejected):
        SandboxGateway(other.credentials).parse_webhook(headers, body)


# --- delivery over HTTP ---------------------------------------------------------------------------


def _pay_va(gateway, make_request, django_capture_on_commit_callbacks):
    request = make_request(method=Method.VA_BCA)
    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_direct(request)
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_simulate(SandboxPayment.objects.get(reference=request.reference).pk)
    return request


def _types(receiver):
    return [json.loads(body)["type"] for _, body in receiver.received]


def test_notifications_arrive_signed_in_order(receiver, gateway, make_request, django_capture_on_commit_callbacks):
    _pay_va(gateway, make_request, django_capture_on_commit_callbacks)
    assert _types(receiver) == ["payment.pending", "payment.paid"]
    for headers, body in receiver.received:
        event = gateway.parse_webhook(headers, body)
        assert event.reference.startswith("pay-")
    assert set(SandboxWebhook.objects.values_list("status", flat=True)) == {SandboxWebhook.SENT}


def test_duplicate_fault_sends_each_event_twice(receiver, gateway, merchant, make_request,
                                                django_capture_on_commit_callbacks):
    SandboxFaults.objects.create(merchant=merchant, webhook_duplicate=True)
    _pay_va(gateway, make_request, django_capture_on_commit_callbacks)
    assert _types(receiver) == ["payment.pending", "payment.pending", "payment.paid", "payment.paid"]
    ids = [json.loads(body)["event_id"] for _, body in receiver.received]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]


def test_out_of_order_fault_delivers_the_earlier_event_last(receiver, gateway, merchant, make_request,
                                                            django_capture_on_commit_callbacks):
    SandboxFaults.objects.create(merchant=merchant, webhook_out_of_order=True)
    _pay_va(gateway, make_request, django_capture_on_commit_callbacks)
    assert _types(receiver) == ["payment.paid", "payment.pending"]


def test_held_event_without_successor_goes_out_late(receiver, gateway, merchant, make_request, frozen_clock,
                                                   django_capture_on_commit_callbacks):
    SandboxFaults.objects.create(merchant=merchant, webhook_out_of_order=True)
    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_direct(make_request(method=Method.VA_BCA))
    assert receiver.received == []
    clock.advance(webhooks.HOLD_AT_MOST)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.sweep(enqueue=jobs.run)
    assert _types(receiver) == ["payment.pending"]


def test_delayed_fault_waits_for_its_time(receiver, gateway, merchant, make_request, frozen_clock,
                                          django_capture_on_commit_callbacks):
    SandboxFaults.objects.create(merchant=merchant, webhook_delay_seconds=120)
    _pay_va(gateway, make_request, django_capture_on_commit_callbacks)
    assert receiver.received == []
    clock.advance(dt.timedelta(seconds=121))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.sweep(enqueue=jobs.run)
    assert _types(receiver) == ["payment.pending", "payment.paid"]
    for headers, body in receiver.received:  # signed when sent, so still fresh
        gateway.parse_webhook(headers, body)


def test_lost_fault_sends_nothing(receiver, gateway, merchant, make_request, frozen_clock,
                                  django_capture_on_commit_callbacks):
    SandboxFaults.objects.create(merchant=merchant, webhook_lost=True)
    _pay_va(gateway, make_request, django_capture_on_commit_callbacks)
    clock.advance(dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.sweep(enqueue=jobs.run)
    assert receiver.received == []
    assert set(SandboxWebhook.objects.values_list("status", flat=True)) == {SandboxWebhook.LOST}


def test_forged_fault_is_rejected_by_the_adapter(receiver, gateway, merchant, make_request,
                                                 django_capture_on_commit_callbacks):
    SandboxFaults.objects.create(merchant=merchant, webhook_forged=True)
    receiver.answer = 400  # what jasa answers to a bad signature
    _pay_va(gateway, make_request, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        with pytest.raises(WebhookRejected):
            gateway.parse_webhook(headers, body)
    assert set(SandboxWebhook.objects.values_list("status", flat=True)) == {SandboxWebhook.REJECTED}


def test_failed_delivery_is_retried_with_backoff(receiver, gateway, make_request, frozen_clock,
                                                 django_capture_on_commit_callbacks):
    receiver.answer = 503
    request = make_request(method=Method.VA_BCA)
    with django_capture_on_commit_callbacks(execute=True):
        gateway.create_direct(request)
    row = SandboxWebhook.objects.get()
    assert row.status == SandboxWebhook.PENDING and row.attempts == 1 and row.last_error == "HTTP 503"
    receiver.answer = 200
    clock.advance(dt.timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        jobs.sweep(enqueue=jobs.run)
    row.refresh_from_db()
    assert row.status == SandboxWebhook.SENT
    assert [json.loads(b)["event_id"] for _, b in receiver.received] == [row.event_id, row.event_id]
