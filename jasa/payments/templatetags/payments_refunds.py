"""The portal's refunds section: a client's refunds waiting for their bank account or a transfer."""

from __future__ import annotations

from django import template

from jasa.payments.models import Refund, RefundChannel, RefundStatus

register = template.Library()


@register.simple_tag
def owed_refunds_of(client) -> list[Refund]:
    """The client's refunds owed by bank transfer, oldest first (the client record is one workspace's)."""
    return list(Refund.objects.filter(workspace_id=client.workspace_id, payment__invoice__client=client,
                                      channel=RefundChannel.BANK_TRANSFER, status=RefundStatus.PENDING)
                .select_related("payment__invoice").order_by("created_at")[:50])
