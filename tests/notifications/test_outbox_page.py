"""The staff outbox page: scoped to the workspace, owners/admins only, failed messages can be retried."""

from __future__ import annotations

import pytest

from jasa.notifications.models import OutboxMessage
from jasa.notifications.services import notify

pytestmark = pytest.mark.django_db


def _message(workspace, **fields) -> OutboxMessage:
    message = notify(workspace=workspace, channel="console", recipient="klien@example.test",
                     template="notifications.test", context={"recipient_name": "Klien"})
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)
    message.refresh_from_db()
    return message


@pytest.fixture
def owner_client(client, workspace):
    from jasa.accounts.models import Membership

    owner = Membership.objects.get(workspace=workspace, role="owner").user
    client.force_login(owner)
    return client


def test_owner_sees_status_and_error_and_retries(owner_client, workspace, django_capture_on_commit_callbacks):
    failed = _message(workspace, status="failed", attempts=5, last_error="SMTPRecipientsRefused: 550 no such user")
    response = owner_client.get(f"/dashboard/{workspace.slug}/outbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "klien@example.test" in html and "550 no such user" in html and "notifications.test" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/dashboard/{workspace.slug}/outbox/{failed.pk}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "sent" and failed.attempts == 6  # the console channel delivered it


def test_status_filter(owner_client, workspace):
    _message(workspace, status="failed", recipient="gagal@example.test")
    _message(workspace, status="sent", recipient="terkirim@example.test")
    html = owner_client.get(f"/dashboard/{workspace.slug}/outbox/?status=failed").content.decode()
    assert "gagal@example.test" in html and "terkirim@example.test" not in html


def test_retrying_a_sent_message_is_refused(owner_client, workspace):
    sent = _message(workspace, status="sent")
    response = owner_client.post(f"/dashboard/{workspace.slug}/outbox/{sent.pk}/retry/", follow=True)
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == "sent" and sent.attempts == 0


def test_other_workspaces_messages_are_invisible(owner_client, workspace, workspace_factory):
    other = workspace_factory()
    theirs = _message(other, status="failed", recipient="rahasia@example.test")
    assert "rahasia@example.test" not in owner_client.get(f"/dashboard/{workspace.slug}/outbox/").content.decode()
    assert owner_client.post(f"/dashboard/{workspace.slug}/outbox/{theirs.pk}/retry/").status_code == 404
    assert owner_client.get(f"/dashboard/{other.slug}/outbox/").status_code == 404


def test_staff_role_may_not_see_the_outbox(client, workspace, member_factory):
    staff = member_factory(workspace, role="staff")
    client.force_login(staff.user)
    assert client.get(f"/dashboard/{workspace.slug}/outbox/").status_code == 403


def test_send_a_test_message_to_me(owner_client, workspace, smtp_server, django_capture_on_commit_callbacks):
    from jasa.accounts.models import Membership

    owner = Membership.objects.get(workspace=workspace, role="owner").user
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/dashboard/{workspace.slug}/outbox/test/")
    assert response.status_code == 302
    [mail] = smtp_server.wait_for(owner.email)
    assert workspace.name in mail["Subject"]
