from django.conf import settings


def jasa_context(request):
    """Values every page needs: the current workspace (set by dashboard/public views) and the mode."""
    return {
        "jasa_sandbox": True,
        "jasa_production": settings.PRODUCTION,
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": getattr(request, "membership", None),
    }
