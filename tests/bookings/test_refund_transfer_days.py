"""How long a refund by bank transfer takes (``Workspace.refund_transfer_days``): set on the settings page
(1–60 working days, empty = not stated; only those who manage the workspace), the cancellation email and
WhatsApp of a VA deposit say "expect it within N working days" in the client's language, and without it
they quote the refund policy as before."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from jasa.accounts.models import Workspace
from jasa.core.money import Money
from tests.bookings.conftest import FRI_9
from tests.bookings.test_cancel_transfer_message import _cancel_va, _rendered

pytestmark = pytest.mark.django_db

WHEN = {
    "en": {5: "Expect it within 5 working days.", 1: "Expect it within 1 working day."},
    "id": {5: "Dana akan Anda terima dalam 5 hari kerja.", 1: "Dana akan Anda terima dalam 1 hari kerja."},
}
POLICY_LINE = {"en": "When to expect it, by our refund policy", "id": "Kapan dana diterima, menurut kebijakan"}


@pytest.fixture
def policy(workspace):
    workspace.refund_policy_en = "Refunds are transferred within 3 working days."
    workspace.refund_policy_id = "Dana dikembalikan dalam 3 hari kerja."
    workspace.save()
    return workspace


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("days", [5, 1])
def test_cancellation_says_within_the_stated_working_days(hold, pay, policy, language, days,
                                                           django_capture_on_commit_callbacks):
    policy.refund_transfer_days = days
    policy.save()
    booking = _cancel_va(hold, pay, language, django_capture_on_commit_callbacks)
    when = WHEN[language][days]
    email = _rendered(booking, "email")
    assert when in email.text and when in email.html
    assert POLICY_LINE[language] not in email.text  # the stated days replace the policy's words
    assert Money(100_000).format(language) in email.text
    refund_line = _rendered(booking, "whatsapp").whatsapp_params[3]
    assert when in refund_line and POLICY_LINE[language] not in refund_line and "\n" not in refund_line


@pytest.mark.parametrize("language", ["en", "id"])
def test_without_stated_days_the_policy_says_when(hold, pay, policy, language, django_capture_on_commit_callbacks):
    assert policy.refund_transfer_days is None
    booking = _cancel_va(hold, pay, language, django_capture_on_commit_callbacks)
    email = _rendered(booking, "email")
    assert POLICY_LINE[language] in email.text and WHEN[language][5].split(" 5 ")[0] not in email.text
    assert POLICY_LINE[language] in _rendered(booking, "whatsapp").whatsapp_params[3]


def test_a_card_deposit_says_nothing_of_a_transfer(hold, pay, policy, django_capture_on_commit_callbacks):
    from jasa.bookings.services import booking_cancel

    policy.refund_transfer_days = 5
    policy.save()
    booking = pay(hold(start=FRI_9, language="en"))
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by="client")
    text = _rendered(booking, "email").text
    assert "working day" not in text and f"Refunded: {Money(100_000).format('en')}" in text


def _settings_data(ws, days) -> dict:
    return {"ws-name": ws.name, "ws-brand_colour": ws.brand_colour, "ws-time_zone": ws.time_zone,
            "ws-currency": ws.currency, "ws-languages": ["id", "en"], "ws-refund_transfer_days": days}


@pytest.mark.parametrize(("typed", "stored"), [("1", 1), ("14", 14), ("60", 60), ("", None)])
def test_settings_page_stores_the_days(client, workspace, typed, stored):
    client.force_login(workspace.memberships.get(role="owner").user)
    workspace.refund_transfer_days = 7
    workspace.save()
    page = client.get(f"/dashboard/{workspace.slug}/settings/").content.decode()
    assert 'name="ws-refund_transfer_days"' in page and 'min="1"' in page and 'max="60"' in page
    response = client.post(f"/dashboard/{workspace.slug}/settings/", _settings_data(workspace, typed))
    assert response.status_code == 302, response.content[:500]
    workspace.refresh_from_db()
    assert workspace.refund_transfer_days == stored


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("typed", ["0", "61", "-3", "x"])
def test_settings_page_refuses_days_outside_1_to_60(client, workspace, typed, lang):
    client.force_login(workspace.memberships.get(role="owner").user)
    response = client.post(f"/dashboard/{workspace.slug}/settings/", _settings_data(workspace, typed),
                           HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 422
    assert response.context["form"].errors["refund_transfer_days"]
    label = {"en": "within (working days)", "id": "dalam (hari kerja)"}[lang]
    assert label in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.refund_transfer_days is None


@pytest.mark.parametrize(("role", "allowed"), [("owner", True), ("admin", True), ("staff", False),
                                               ("finance", False), (None, False)])
def test_only_those_who_manage_the_workspace_set_the_days(client, workspace, member_factory, role, allowed):
    if role == "owner":
        client.force_login(workspace.memberships.get(role="owner").user)
    elif role:
        client.force_login(member_factory(workspace, role=role).user)
    response = client.post(f"/dashboard/{workspace.slug}/settings/", _settings_data(workspace, "10"))
    assert (response.status_code == 302 and "/login" not in response.get("Location", "")) is allowed
    workspace.refresh_from_db()
    assert (workspace.refund_transfer_days == 10) is allowed


def test_the_database_refuses_days_outside_1_to_60(workspace):
    for bad in (0, 61):
        with pytest.raises(IntegrityError), transaction.atomic():
            Workspace.objects.filter(pk=workspace.pk).update(refund_transfer_days=bad)
