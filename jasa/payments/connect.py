"""Which gateway adapter, with which credentials, serves a workspace."""

from __future__ import annotations

from django.conf import settings

from jasa.core.errors import ValidationError
from jasa.payments.gateways.base import Gateway, gateway_class

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
    except LookupError as exc:
        raise ValidationError(str(exc), field="gateway")
    account = account_for(workspace, name)
    if account is None:
        if name != SANDBOX:
            raise ValidationError(f"The {name} gateway is not set up for this business.", field="gateway")
        return cls({}, sandbox=True)
    if not account.enabled:
        raise ValidationError(f"The {name} gateway is switched off for this business.", field="gateway")
    return cls(account.credentials, sandbox=account.sandbox)


def webhook_verifiers(name: str) -> list[Gateway]:
    """Adapters that may verify a webhook for ``name``: one per enabled account with its own credentials
    (their secrets differ), plus a credential-less one for the sandbox."""
    from jasa.payments.models import GatewayAccount

    cls = gateway_class(name)
    out: list[Gateway] = []
    seen: set[str] = set()
    for account in GatewayAccount.objects.filter(gateway=name, enabled=True).order_by("created_at"):
        fingerprint = account.credentials_encrypted and repr(sorted(account.credentials.items()))
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        out.append(cls(account.credentials, sandbox=account.sandbox))
    if not out or name == SANDBOX and "" not in seen:
        out.append(cls({}, sandbox=True))
    return out


def notification_url(name: str) -> str:
    return f"{settings.SITE_URL}/webhooks/{name}"
