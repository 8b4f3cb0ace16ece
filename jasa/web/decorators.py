"""Dashboard access: a view under /dashboard/<ws>/ runs only for active members with the capability."""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from jasa.accounts.permissions import can
from jasa.accounts.selectors import membership_for, workspace_by_slug


def workspace_member(capability: str = "workspace.view"):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, ws: str, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            workspace = workspace_by_slug(ws)
            membership = membership_for(request.user, workspace) if workspace else None
            if membership is None:
                # Not a member: the workspace's dashboard does not exist for them.
                raise Http404("No such workspace")
            request.workspace = workspace
            request.membership = membership
            if not can(membership, capability):
                return render(request, "web/forbidden.html", {"capability": capability}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
