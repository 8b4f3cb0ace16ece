"""Reads of the sandbox gateway."""

from __future__ import annotations

import uuid

from jasa.accounts.models import Workspace
from jasa.accounts.permissions import can
from jasa.sandbox.models import SandboxMerchant, SandboxPayment


def payment_by_ref(ref: str) -> SandboxPayment | None:
    """By the gateway's id (what checkout URLs carry), else by jasa's reference when that is unique."""
    payment = SandboxPayment.objects.select_related("merchant").filter(gateway_reference=ref).first()
    if payment is not None:
        return payment
    matches = list(SandboxPayment.objects.select_related("merchant").filter(reference=ref)[:2])
    return matches[0] if len(matches) == 1 else None


def workspace_of(payment: SandboxPayment) -> Workspace | None:
    """The business behind a payment: its merchant's workspace, else the one named in the metadata."""
    if payment.merchant.workspace_id:
        return payment.merchant.workspace
    workspace_id = payment.metadata.get("workspace_id") or payment.metadata.get("workspace")
    if not workspace_id:
        return None
    try:
        return Workspace.objects.filter(pk=uuid.UUID(str(workspace_id))).first()
    except ValueError:  # not a UUID: a slug
        return Workspace.objects.filter(slug=str(workspace_id)).first()


def fault_targets(user) -> list[tuple[str, SandboxMerchant | None]]:
    """Which fault rows ``user`` may switch: merchants of workspaces where they manage gateways,
    and the global row for superusers."""
    targets: list[tuple[str, SandboxMerchant | None]] = []
    if user.is_superuser:
        targets.append(("global", None))
    for merchant in SandboxMerchant.objects.filter(workspace__memberships__user=user).select_related("workspace"):
        membership = merchant.workspace.memberships.filter(user=user).first() if merchant.workspace else None
        if can(membership, "gateways.manage"):
            targets.append((merchant.merchant_id, merchant))
    return targets
