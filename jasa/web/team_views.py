"""The team page: members, invitations, roles, staff profiles; and accepting an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.accounts import selectors, services
from jasa.accounts.forms import InvitationForm, RoleForm, StaffProfileForm
from jasa.accounts.models import Role, StaffProfile
from jasa.accounts.permissions import can
from jasa.core.errors import JasaError
from jasa.web.decorators import workspace_member
from jasa.web.utils import changed_data, form_error


def _team_page(request, invite_form=None, status=200):
    ws = request.workspace
    viewer_is_owner = request.membership.role == Role.OWNER
    members = [
        # Only an owner may change an owner; nobody changes themselves here.
        (m, m.is_active and m.user_id != request.user.pk and (viewer_is_owner or m.role != Role.OWNER))
        for m in selectors.members(ws)
    ]
    role_choices = [c for c in Role.choices if viewer_is_owner or c[0] != Role.OWNER]
    invite_form = invite_form or InvitationForm()
    invite_form.fields["role"].choices = role_choices
    return render(request, "web/team.html", {
        "members": members,
        "invitations": selectors.open_invitations(ws) if can(request.membership, "staff.invite") else [],
        "invite_form": invite_form,
        "may_invite": can(request.membership, "staff.invite"),
        "may_manage": can(request.membership, "staff.manage"),
        "role_choices": role_choices,
    }, status=status)


@workspace_member("staff.view")
def team(request):
    return _team_page(request)


@require_POST
@workspace_member("staff.invite")
def team_invite(request):
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            services.invitation_create(workspace=request.workspace, invited_by=request.user,
                                       language=translation.get_language(), **form.cleaned_data)
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("web:team", ws=request.workspace.slug)
    return _team_page(request, invite_form=form, status=422)


@require_POST
@workspace_member("staff.invite")
def invitation_cancel(request, invitation_id):
    invitation = selectors.invitation_in(request.workspace, invitation_id)
    if invitation is None:
        raise Http404("No such invitation")
    try:
        services.invitation_cancel(invitation=invitation)
        messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    except JasaError as exc:
        messages.error(request, exc.message)
    return redirect("web:team", ws=request.workspace.slug)


def _member_or_404(request, membership_id):
    membership = selectors.membership_in(request.workspace, membership_id)
    if membership is None:
        raise Http404("No such team member")
    return membership


@require_POST
@workspace_member("staff.manage")
def member_role(request, membership_id):
    membership = _member_or_404(request, membership_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(membership=membership, role=form.cleaned_data["role"], by=request.user)
            messages.success(request, _("Role changed."))
        except JasaError as exc:
            messages.error(request, exc.message)
    return redirect("web:team", ws=request.workspace.slug)


@require_POST
@workspace_member("staff.manage")
def member_deactivate(request, membership_id):
    membership = _member_or_404(request, membership_id)
    try:
        services.membership_deactivate(membership=membership, by=request.user)
        messages.success(request, _("%(name)s no longer has access.") % {"name": membership.user})
    except JasaError as exc:
        messages.error(request, exc.message)
    return redirect("web:team", ws=request.workspace.slug)


def _profile_page(request, profile: StaffProfile, redirect_to: str):
    if request.method == "POST":
        form = StaffProfileForm(request.POST, request.FILES, instance=StaffProfile.objects.get(pk=profile.pk))
        if form.is_valid():
            try:
                services.staff_profile_update(profile=profile, **changed_data(form))
            except JasaError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Profile saved."))
                return redirect(redirect_to)
    else:
        form = StaffProfileForm(instance=profile)
    return render(request, "web/staff_profile.html", {"form": form, "profile": profile},
                  status=422 if form.errors else 200)


@workspace_member("workspace.view")
def my_profile(request):
    profile, _created = StaffProfile.objects.get_or_create(
        membership=request.membership,
        defaults={"workspace": request.workspace, "display_name": request.user.name or request.user.email,
                  "time_zone": request.workspace.time_zone},
    )
    return _profile_page(request, profile, request.path)


@workspace_member("staff.manage")
def member_profile(request, membership_id):
    membership = _member_or_404(request, membership_id)
    profile = getattr(membership, "profile", None)
    if profile is None:
        raise Http404("No profile")
    return _profile_page(request, profile, request.path)


def invitation_accept(request, token: str):
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        raise Http404("No such invitation")
    error = None
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.path)
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except JasaError as exc:
            error = exc.message
        else:
            messages.success(request, _("Welcome to %(name)s.") % {"name": invitation.workspace.name})
            return redirect("web:dashboard", ws=invitation.workspace.slug)
    return render(request, "web/invitation.html", {"invitation": invitation, "error": error},
                  status=409 if error else 200)

