"""Which gateway adapter, with which credentials, serves a workspace."""

from __future__ import annotations

import time

from django.conf import settings
from django.utils.translation import gettext as _

from jasa.core.errors import ValidationError
from jasa.payments.gateways.base import Gateway, gateway_class, gateway_names

SANDBOX = "sandbox"


def account_for(workspace, name: str):
    from jasa.payments.models import GatewayAccount

    return GatewayAccount.objects.filter(workspace=workspace, gateway=name).first()


def default_gateway_name(workspace) -> str:
    """The workspace's default enabled gateway, else the sandbox."""
    from jasa.payments.models import GatewayAccount

    account = (
        GatewayAccount.objects.filter(workspace=workspace, enabled=True).order_by("-is_default", "created_at").first()
    )
    return account.gateway if account else SANDBOX


def gateway_for(workspace, name: str) -> Gateway:
    """An adapter instance for ``name`` with the workspace's credentials. The sandbox needs none."""
    try:
        cls = gateway_class(name)
    except LookupError:
        raise ValidationError(unknown_gateway_message(name), field="gateway")
    account = account_for(workspace, name)
    if account is None:
        if name != SANDBOX:
            raise ValidationError(_("The %(gateway)s gateway is not set up for this business.") % {
                "gateway": cls.label}, field="gateway")
        return cls({}, sandbox=True)
    if not account.enabled:
        raise ValidationError(_("The %(gateway)s gateway is switched off for this business.") % {
            "gateway": cls.label}, field="gateway")
    return cls(account.credentials, sandbox=account.sandbox)


def unknown_gateway_message(name: str) -> str:
    return _("There is no payment gateway %(gateway)s; use one of %(known)s.") % {
        "gateway": repr(name), "known": ", ".join(gateway_names())}


# Decrypting every account's credentials (and even one query) per webhook would dominate ingestion,
# so each process keeps the adapters for VERIFIER_TTL seconds, and drops them at once when a
# GatewayAccount of this process changes (see signals below). Tests use no cache.
VERIFIER_TTL = 0.0 if getattr(settings, "TESTING", False) else 5.0
_verifier_cache: dict[tuple[str, str], tuple[float, list[Gateway]]] = {}


def webhook_verifiers(name: str, account_id: str = "") -> list[Gateway]:
    """Adapters that may verify a webhook for ``name``: the one account named in the URL, or one per
    enabled account (their secrets differ) plus a credential-less one for the sandbox."""
    hit = _verifier_cache.get((name, account_id))
    if hit is not None and time.monotonic() - hit[0] < VERIFIER_TTL:
        return hit[1]
    from jasa.payments.models import GatewayAccount

    cls = gateway_class(name)
    accounts = GatewayAccount.objects.filter(gateway=name, enabled=True).order_by("created_at")
    if account_id:
        accounts = accounts.filter(pk=account_id)
    out: list[Gateway] = []
    seen: set[str] = set()
    for account in accounts:
        creds = repr(sorted(account.credentials.items()))
        if creds in seen:
            continue
        seen.add(creds)
        out.append(cls(account.credentials, sandbox=account.sandbox))
    if not account_id and (not out or name == SANDBOX):
        out.append(cls({}, sandbox=True))
    _verifier_cache[(name, account_id)] = (time.monotonic(), out)
    return out


def forget_verifiers(**_kwargs) -> None:
    _verifier_cache.clear()


def notification_url(name: str) -> str:
    return f"{settings.SITE_URL}/webhooks/{name}"
