"""The outbox: real mail through a real SMTP server, WhatsApp against a local fake of Meta's API."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from jasa.core import clock
from jasa.notifications.models import NotificationTemplate, OutboxMessage
from jasa.notifications.services import notify, outbox_retry, outbox_sweep

pytestmark = pytest.mark.django_db

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//jasa//test//EN\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def _send(django_capture_on_commit_callbacks, **kwargs) -> OutboxMessage:
    defaults = {"channel": "email", "template": "notifications.test", "context": {"recipient_name": "Sari"}}
    with django_capture_on_commit_callbacks(execute=True):
        message = notify(**{**defaults, **kwargs})
    message.refresh_from_db()
    return message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_email_arrives_with_text_html_and_ics(smtp_server, workspace, django_capture_on_commit_callbacks):
    message = _send(
        django_capture_on_commit_callbacks, workspace=workspace, recipient="sari@example.test", language="en",
        attachments=[{"filename": "invite.ics", "content_type": "text/calendar; method=REQUEST", "content": ICS}],
    )
    assert message.status == OutboxMessage.SENT and message.sent_at is not None and message.attempts == 1
    [mail] = smtp_server.wait_for("sari@example.test")
    assert mail["Subject"] == f"Test message from {workspace.name}"
    assert workspace.name in mail["From"]
    assert "Hello Sari," in smtp_server.text(mail)
    assert "<p>Hello Sari,</p>" in smtp_server.html(mail)
    [ics] = [part for part in mail.iter_attachments()]
    assert ics.get_filename() == "invite.ics"
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "REQUEST"
    assert ics.get_content().replace("\r\n", "\n") == ICS.decode().replace("\r\n", "\n")


def test_indonesian_is_the_default_language(smtp_server, workspace, django_capture_on_commit_callbacks):
    _send(django_capture_on_commit_callbacks, workspace=workspace, recipient="budi@example.test")
    [mail] = smtp_server.wait_for("budi@example.test")
    assert mail["Subject"] == f"Pesan uji dari {workspace.name}"
    assert "Halo Sari," in smtp_server.text(mail)


def test_same_dedupe_key_twice_sends_one_mail(smtp_server, workspace, django_capture_on_commit_callbacks):
    first = _send(django_capture_on_commit_callbacks, workspace=workspace, recipient="a@example.test",
                  dedupe_key="booking:1:reminder:24h")
    second = _send(django_capture_on_commit_callbacks, workspace=workspace, recipient="a@example.test",
                   dedupe_key="booking:1:reminder:24h")
    assert first.pk == second.pk
    assert OutboxMessage.objects.filter(dedupe_key="booking:1:reminder:24h").count() == 1
    smtp_server.wait_for("a@example.test")
    outbox_sweep()  # nothing left to send
    assert len(smtp_server.to("a@example.test")) == 1


def test_failure_is_recorded_then_retried_with_backoff(
    smtp_server, settings, workspace, frozen_clock, django_capture_on_commit_callbacks
):
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _closed_port()
    message = _send(django_capture_on_commit_callbacks, workspace=workspace, recipient="c@example.test")
    assert message.status == OutboxMessage.FAILED
    assert message.attempts == 1
    assert "ConnectionRefused" in message.last_error
    assert message.next_attempt_at == clock.now() + dt.timedelta(minutes=1)

    outbox_sweep()  # backoff not over yet
    message.refresh_from_db()
    assert message.attempts == 1

    settings.EMAIL_PORT = good_port
    clock.advance(dt.timedelta(minutes=2))
    assert outbox_sweep() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.SENT and message.attempts == 2 and message.last_error == ""
    assert len(smtp_server.wait_for("c@example.test")) == 1


def test_gives_up_after_max_attempts_and_a_person_can_retry(
    smtp_server, settings, workspace, frozen_clock, django_capture_on_commit_callbacks
):
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _closed_port()
    message = _send(django_capture_on_commit_callbacks, workspace=workspace, recipient="d@example.test")
    for _ in range(10):
        clock.advance(dt.timedelta(hours=7))
        outbox_sweep()
    message.refresh_from_db()
    assert message.status == OutboxMessage.FAILED
    assert message.attempts == message.max_attempts == 5
    assert message.next_attempt_at is None

    settings.EMAIL_PORT = good_port
    with django_capture_on_commit_callbacks(execute=True):
        outbox_retry(message)
    message.refresh_from_db()
    assert message.status == OutboxMessage.SENT and message.attempts == 6
    smtp_server.wait_for("d@example.test")


def test_a_message_lost_from_the_queue_is_sent_by_the_sweep(smtp_server, workspace, frozen_clock):
    # no on-commit capture: the after-commit enqueue never happens, as if the queue lost it
    message = notify(workspace=workspace, channel="email", recipient="e@example.test",
                     template="notifications.test", context={"recipient_name": "E"})
    assert outbox_sweep() == 0  # still within the grace period of the normal path
    clock.advance(dt.timedelta(minutes=2))
    assert outbox_sweep() == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.SENT
    smtp_server.wait_for("e@example.test")


def test_workspace_override_wins(smtp_server, workspace, django_capture_on_commit_callbacks):
    NotificationTemplate.objects.create(
        workspace=workspace, template="notifications.test", language="id", channel="email",
        subject="Salam dari {{ workspace.name }}", body="Hai {{ recipient_name }} & tim!\nSampai jumpa.",
    )
    _send(django_capture_on_commit_callbacks, workspace=workspace, recipient="f@example.test")
    [mail] = smtp_server.wait_for("f@example.test")
    assert mail["Subject"] == f"Salam dari {workspace.name}"
    assert "Hai Sari & tim!" in smtp_server.text(mail)
    assert "Hai Sari &amp; tim!" in smtp_server.html(mail)


def test_override_of_another_workspace_does_not_apply(
    smtp_server, workspace, workspace_factory, django_capture_on_commit_callbacks
):
    other = workspace_factory()
    NotificationTemplate.objects.create(workspace=other, template="notifications.test", language="id",
                                        channel="email", subject="Bukan untuk kamu", body="x")
    _send(django_capture_on_commit_callbacks, workspace=workspace, recipient="g@example.test")
    [mail] = smtp_server.wait_for("g@example.test")
    assert mail["Subject"] == f"Pesan uji dari {workspace.name}"


def test_whatsapp_template_message(whatsapp_api, workspace, django_capture_on_commit_callbacks):
    message = _send(django_capture_on_commit_callbacks, workspace=workspace, channel="whatsapp",
                    recipient="0812-3456-7890", language="en")
    assert message.status == OutboxMessage.SENT, message.last_error
    assert message.provider_message_id.startswith("wamid.")
    [request] = whatsapp_api.requests
    assert request["auth"] == "Bearer test-wa-token"
    assert request["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "template",
        "template": {
            "name": "notifications_test",
            "language": {"code": "en"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Sari"}, {"type": "text", "text": workspace.name}]}],
        },
    }


def test_whatsapp_error_payload_is_recorded(whatsapp_api, settings, workspace, django_capture_on_commit_callbacks):
    settings.WHATSAPP_TOKEN = "expired"
    message = _send(django_capture_on_commit_callbacks, workspace=workspace, channel="whatsapp",
                    recipient="+62 812 3456 7890")
    assert message.status == OutboxMessage.FAILED
    assert "401" in message.last_error and "Invalid OAuth access token" in message.last_error
    assert "code 190" in message.last_error


def test_whatsapp_rejected_template(whatsapp_api, workspace, django_capture_on_commit_callbacks):
    whatsapp_api.fail_with = (404, {"error": {"message": "(#132001) Template name does not exist in the translation",
                                              "type": "OAuthException", "code": 132001, "fbtrace_id": "X"}})
    message = _send(django_capture_on_commit_callbacks, workspace=workspace, channel="whatsapp",
                    recipient="081234567890")
    assert message.status == OutboxMessage.FAILED
    assert "132001" in message.last_error


def test_whatsapp_override_names_the_meta_template(whatsapp_api, workspace, django_capture_on_commit_callbacks):
    NotificationTemplate.objects.create(workspace=workspace, template="notifications.test", language="id",
                                        channel="whatsapp", subject="uji_bisnis", body="{{ recipient_name }}")
    _send(django_capture_on_commit_callbacks, workspace=workspace, channel="whatsapp", recipient="081234567890")
    template = whatsapp_api.requests[0]["json"]["template"]
    assert template["name"] == "uji_bisnis"
    assert template["components"][0]["parameters"] == [{"type": "text", "text": "Sari"}]


def test_console_channel(workspace, capsys, django_capture_on_commit_callbacks):
    message = _send(django_capture_on_commit_callbacks, workspace=workspace, channel="console",
                    recipient="dev@example.test", language="en")
    assert message.status == OutboxMessage.SENT
    assert "Hello Sari," in capsys.readouterr().out


def test_bad_input_is_refused(workspace):
    from jasa.core.errors import ValidationError

    with pytest.raises(ValidationError):
        notify(workspace=workspace, channel="pigeon", recipient="x", template="t", context={})
    with pytest.raises(ValidationError):
        notify(workspace=workspace, channel="email", recipient="x@example.test", template="t", context={},
               language="fr")
    with pytest.raises(ValidationError):
        notify(workspace=workspace, channel="email", recipient="x@example.test", template="t",
               context={"obj": object()})


def test_sms_without_a_provider_fails_clearly(settings, workspace, django_capture_on_commit_callbacks):
    settings.JASA_SMS_API_URL = None
    message = _send(django_capture_on_commit_callbacks, workspace=workspace, channel="sms", recipient="081234567890")
    assert message.status == OutboxMessage.FAILED
    assert "no SMS provider configured" in message.last_error


def _reminder_handler(job):
    from jasa.accounts.models import Workspace

    notify(workspace=Workspace.objects.get(pk=job.payload["workspace"]), channel="email",
           recipient=job.payload["to"], template="notifications.test", context={"recipient_name": "Sari"},
           dedupe_key=f"{job.key}:mail")
    if job.payload.get("fail"):
        raise RuntimeError("the handler failed after notify")


def test_notify_from_a_job_handler_sends_only_when_the_job_commits(
    smtp_server, workspace, frozen_clock, django_capture_on_commit_callbacks
):
    from jasa.core import jobs

    jobs.handler("test.notify")(_reminder_handler)
    payload = {"workspace": str(workspace.pk), "to": "h@example.test"}
    jobs.schedule("test.notify", key="remind:fail", due_at=clock.now(), payload={**payload, "fail": True})
    jobs.schedule("test.notify", key="remind:ok", due_at=clock.now(), payload=payload)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.sweep(enqueue=jobs.run)
    assert not OutboxMessage.objects.filter(dedupe_key="remind:fail:mail").exists()  # rolled back with the job
    assert OutboxMessage.objects.get(dedupe_key="remind:ok:mail").status == OutboxMessage.SENT
    assert len(smtp_server.wait_for("h@example.test")) == 1
