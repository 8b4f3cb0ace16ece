from django.conf import settings

from jasa.web.nav import dashboard_nav


def jasa_context(request):
    """Values every page needs: the current workspace (set by dashboard/public views) and the mode."""
    membership = getattr(request, "membership", None)
    context = {
        "jasa_sandbox": True,
        "jasa_production": settings.PRODUCTION,
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": membership,
        "dashboard_nav": [],
        "my_workspaces": [],
    }
    if membership is not None:
        from jasa.accounts.selectors import workspaces_for_user

        context["dashboard_nav"] = dashboard_nav(request)
        context["my_workspaces"] = list(workspaces_for_user(request.user).only("name", "slug"))
    return context
