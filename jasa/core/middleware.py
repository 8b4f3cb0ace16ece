from __future__ import annotations

from django.conf import settings

from jasa.core import audit


def client_ip(request) -> str | None:
    # Behind a proxy in production, the proxy's X-Forwarded-For first entry is the client.
    if settings.PRODUCTION:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    """Makes the request's user and IP the audit actor for everything the request changes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        token = audit.set_actor(
            audit.Actor(user=user, label=getattr(user, "email", "") or "anonymous", ip=client_ip(request))
        )
        try:
            return self.get_response(request)
        finally:
            audit.reset_actor(token)


class ContentSecurityPolicyMiddleware:
    """A strict CSP: scripts and styles only from jasa itself (htmx and Pico are served locally)."""

    POLICY = (
        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self' https:; base-uri 'self'; "
        "object-src 'none'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # The Django admin (5.x) loads every script from files too, so it gets the same policy.
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response
