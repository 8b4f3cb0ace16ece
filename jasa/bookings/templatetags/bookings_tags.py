"""Template helpers of bookings: offers for the public workspace page, money in the page's language."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

register = template.Library()


def _lang() -> str:
    return "en" if (get_language() or "id").startswith("en") else "id"


@register.simple_tag
def public_offers(workspace):
    from jasa.bookings.selectors import offers_for_workspace

    return list(offers_for_workspace(workspace)) if workspace is not None else []


@register.filter
def money(value) -> str:
    """Money (or an integer of IDR) formatted for the current language: Rp 500.000 / IDR 500,000."""
    from jasa.core.money import Money

    if isinstance(value, int):
        value = Money(value)
    return value.format(_lang()) if value is not None else ""


@register.filter
def in_lang(offer, what: str = "name") -> str:
    """offer|in_lang:"name" -> the offer's name (or description) in the current language."""
    return getattr(offer, what)(_lang())


@register.simple_tag
def client_bookings(client, limit: int = 20):
    """A client's recent and upcoming bookings with their signed manage links, for the client portal."""
    from jasa.bookings.links import manage_path
    from jasa.bookings.models import Booking

    out = []
    for booking in Booking.objects.filter(workspace_id=client.workspace_id, client=client).select_related(
        "offer", "workspace", "staff__user"
    ).order_by("-start_at")[:limit]:
        booking.manage_path = manage_path(booking)
        out.append(booking)
    return out
