"""The shell: home, the dashboard start page, the client portal and the public workspace page."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from jasa.accounts.selectors import (
    client_records,
    invitations_for_user,
    public_staff,
    workspace_by_slug,
    workspaces_for_user,
)
from jasa.web.decorators import workspace_member
from jasa.web.nav import portal_sections


def home(request):
    if request.user.is_authenticated:
        workspaces = list(workspaces_for_user(request.user))
        invitations = list(invitations_for_user(request.user))
        if not invitations:
            if len(workspaces) == 1:
                return redirect("web:dashboard", ws=workspaces[0].slug)
            if not workspaces and client_records(request.user).exists():
                return redirect("web:portal")
        return render(request, "web/home.html", {"workspaces": workspaces, "invitations": invitations})
    return render(request, "web/home.html", {"workspaces": []})


@login_required
def dashboard_index(request):
    return render(request, "web/home.html", {"workspaces": list(workspaces_for_user(request.user)),
                                             "invitations": list(invitations_for_user(request.user))})


@workspace_member("workspace.view")
def dashboard(request):
    return render(request, "web/dashboard.html", {})


@login_required
def portal(request):
    return render(request, "web/portal.html", {"clients": client_records(request.user),
                                               "sections": portal_sections()})


def workspace_public(request, ws: str):
    workspace = workspace_by_slug(ws)
    if workspace is None:
        raise Http404("No such business")
    request.workspace = workspace
    return render(request, "web/workspace_public.html", {"workspace": workspace, "staff": public_staff(workspace)})
