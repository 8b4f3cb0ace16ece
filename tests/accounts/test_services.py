"""Workspace, team and profile services: the rules, the audit trail, the invitation mail."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.accounts import services
from jasa.accounts.models import Membership, Role, StaffProfile
from jasa.core import audit, clock
from jasa.core.errors import Conflict, PermissionDenied, ValidationError


def _owner(ws):
    return ws.memberships.get(role=Role.OWNER)


@pytest.mark.django_db
def test_workspace_create_refuses_reserved_and_taken_addresses(workspace, user_factory):
    with pytest.raises(ValidationError):
        services.workspace_create(owner=user_factory(), name="X", slug="dashboard")
    with pytest.raises(Conflict):
        services.workspace_create(owner=user_factory(), name="X", slug=workspace.slug)


@pytest.mark.django_db
def test_workspace_update_records_before_and_after(workspace):
    services.workspace_update(workspace=workspace, legal_name="PT Acme", languages=["en", "id", "xx"])
    workspace.refresh_from_db()
    assert workspace.legal_name == "PT Acme" and workspace.languages == ["id", "en"]
    entry = audit.for_object(workspace).filter(action="workspace.updated").get()
    assert entry.after == {"legal_name": "PT Acme"} and entry.before == {"legal_name": ""}
    with pytest.raises(ValidationError):
        services.workspace_update(workspace=workspace, languages=[])
    with pytest.raises(ValidationError):
        services.workspace_update(workspace=workspace, brand_colour="red")
    with pytest.raises(ValidationError):
        services.workspace_update(workspace=workspace, slug="other")  # not changeable here


@pytest.mark.django_db
def test_invitation_mail_goes_through_the_outbox_to_smtp(workspace, smtp_server, django_capture_on_commit_callbacks):
    from jasa.notifications.models import OutboxMessage

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(workspace=workspace, email="Baru@Example.test", role="staff",
                                                invited_by=_owner(workspace).user, language="en")
    assert invitation.email == "baru@example.test"
    assert OutboxMessage.objects.filter(recipient="baru@example.test", template="staff_invitation").exists()
    [msg] = smtp_server.wait_for("baru@example.test")
    assert workspace.name in msg["Subject"] and "invited" in msg["Subject"]
    assert f"/invite/{invitation.token}/" in smtp_server.text(msg)


@pytest.mark.django_db
def test_invitation_mail_in_indonesian(workspace, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(workspace=workspace, email="id@example.test", role="finance",
                                   invited_by=_owner(workspace).user, language="id")
    [msg] = smtp_server.wait_for("id@example.test")
    assert "diundang" in msg["Subject"].lower()


@pytest.mark.django_db
def test_invitation_accept_rules(workspace, user_factory):
    owner = _owner(workspace).user
    invitation = services.invitation_create(workspace=workspace, email="dia@example.test", role="admin",
                                            invited_by=owner)
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=invitation, user=user_factory(email="lain@example.test"))
    invitee = user_factory(email="dia@example.test")
    membership = services.invitation_accept(invitation=invitation, user=invitee)
    assert membership.role == "admin" and membership.is_active
    assert StaffProfile.objects.filter(membership=membership).exists()
    assert audit.for_object(membership).filter(action="membership.joined").exists()
    with pytest.raises(Conflict):
        services.invitation_accept(invitation=invitation, user=invitee)


@pytest.mark.django_db
def test_expired_invitation_is_refused(workspace, user_factory, frozen_clock):
    invitation = services.invitation_create(workspace=workspace, email="late@example.test", role="staff",
                                            invited_by=_owner(workspace).user)
    clock.advance(services.INVITATION_VALID_FOR + dt.timedelta(minutes=1))
    with pytest.raises(Conflict):
        services.invitation_accept(invitation=invitation, user=user_factory(email="late@example.test"))


@pytest.mark.django_db
def test_only_owners_make_or_change_owners_and_one_owner_always_remains(workspace, member_factory):
    owner = _owner(workspace)
    admin = member_factory(workspace, role="admin")
    staff = member_factory(workspace, role="staff")
    with pytest.raises(PermissionDenied):
        services.membership_change_role(membership=staff, role="owner", by=admin.user)
    with pytest.raises(PermissionDenied):
        services.membership_change_role(membership=owner, role="staff", by=admin.user)
    with pytest.raises(PermissionDenied):
        services.membership_deactivate(membership=owner, by=admin.user)
    with pytest.raises(PermissionDenied):
        services.invitation_create(workspace=workspace, email="o@example.test", role="owner", invited_by=admin.user)
    with pytest.raises(Conflict):
        services.membership_change_role(membership=owner, role="admin", by=owner.user)
    with pytest.raises(Conflict):
        services.membership_deactivate(membership=owner, by=owner.user)
    services.membership_change_role(membership=staff, role="owner", by=owner.user)
    services.membership_change_role(membership=owner, role="admin", by=owner.user)  # another owner exists now
    assert Membership.objects.get(pk=owner.pk).role == "admin"
    entry = audit.for_object(owner).filter(action="membership.role_changed").get()
    assert entry.before == {"role": "owner"} and entry.after == {"role": "admin"}


@pytest.mark.django_db
def test_deactivated_member_loses_the_dashboard(client, workspace, member_factory):
    staff = member_factory(workspace, role="staff")
    client.force_login(staff.user)
    assert client.get(f"/dashboard/{workspace.slug}/").status_code == 200
    services.membership_deactivate(membership=staff, by=_owner(workspace).user)
    assert client.get(f"/dashboard/{workspace.slug}/").status_code == 404


@pytest.mark.django_db
def test_staff_profile_update(workspace):
    profile = _owner(workspace).profile
    services.staff_profile_update(profile=profile, headline="Konsultan pajak", certifications=[" Brevet A ", ""],
                                  languages=["ID", "en"], years_experience=7)
    profile.refresh_from_db()
    assert profile.certifications == ["Brevet A"] and profile.languages == ["id", "en"]
    assert audit.for_object(profile).filter(action="staff_profile.updated").exists()
    with pytest.raises(ValidationError):
        services.staff_profile_update(profile=profile, membership=None)


@pytest.mark.django_db
def test_withdrawn_invitation_no_longer_works(workspace, user_factory):
    invitation = services.invitation_create(workspace=workspace, email="batal@example.test", role="staff",
                                            invited_by=_owner(workspace).user)
    services.invitation_cancel(invitation=invitation)
    assert audit.for_object(invitation).filter(action="invitation.canceled").exists()
    with pytest.raises(Conflict):
        services.invitation_accept(invitation=invitation, user=user_factory(email="batal@example.test"))


@pytest.mark.django_db
def test_team_page_offers_owner_changes_only_to_owners(client, workspace, member_factory):
    admin = member_factory(workspace, role="admin")
    client.force_login(admin.user)
    html = client.get(f"/dashboard/{workspace.slug}/team/").content.decode()
    owner = _owner(workspace)
    assert f"/team/{owner.pk}/role/" not in html and f"/team/{owner.pk}/deactivate/" not in html
    assert f"/team/{admin.pk}/role/" not in html  # not oneself either
    assert 'value="owner"' not in html
    client.force_login(owner.user)
    html = client.get(f"/dashboard/{workspace.slug}/team/").content.decode()
    assert f"/team/{admin.pk}/role/" in html and 'value="owner"' in html
