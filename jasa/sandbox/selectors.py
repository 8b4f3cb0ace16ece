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


def offered_methods(payment: SandboxPayment, workspace: Workspace | None) -> list[str]:
    """What the checkout lists: the methods the request allowed, else those the business enabled for
    the sandbox in jasa's gateway settings, else every method."""
    from jasa.sandbox.methods import ALL_METHODS

    if payment.allowed_methods:
        return list(payment.allowed_methods)
    if workspace is not None:
        from jasa.payments.connect import account_for

        account = account_for(workspace, "sandbox")
        if account is not None and account.enabled_methods:
            return [m for m in ALL_METHODS if m in account.enabled_methods]
    return list(ALL_METHODS)


def surcharge_of(payment: SandboxPayment, workspace: Workspace | None) -> int:
    """The fee passed on to the client inside the amount: from the request's metadata, else from jasa's
    own payment (the sandbox lives in jasa, so it may look, as a real gateway shows item details)."""
    value = str(payment.metadata.get("surcharge_amount") or "")
    if value.isdigit():
        return int(value)
    if workspace is None:
        return 0
    from jasa.payments.models import PaymentIntent

    try:
        pk = uuid.UUID(payment.reference)
    except ValueError:
        return 0
    found = PaymentIntent.objects.filter(pk=pk, workspace=workspace).values_list("surcharge_amount", flat=True)
    return int(found.first() or 0)


def payment_by_instrument(code: str) -> SandboxPayment | None:
    """The open test-mode payment a VA number, store code or QRIS payload belongs to."""
    code = code.strip()
    digits = code.replace(" ", "")
    if not code:
        return None
    open_payments = SandboxPayment.objects.filter(status=SandboxPayment.PENDING, livemode=False)
    return (open_payments.filter(va_number=digits).first() or open_payments.filter(store_code=digits).first()
            or open_payments.filter(qr_string=code).first())
