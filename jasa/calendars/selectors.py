"""Reads of the calendars app, scoped to a workspace and a staff member."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from jasa.calendars.models import BookingFeed, CalendarConnection


def connections_for(membership) -> QuerySet[CalendarConnection]:
    return (
        CalendarConnection.objects.filter(workspace_id=membership.workspace_id, membership=membership)
        .annotate(busy_count=Count("busy"))
        .order_by("created_at")
    )


def connection_for(membership, connection_id) -> CalendarConnection | None:
    return CalendarConnection.objects.filter(
        workspace_id=membership.workspace_id, membership=membership, pk=connection_id
    ).first()


def feed_by_token(token: str) -> BookingFeed | None:
    return (
        BookingFeed.objects.select_related("membership__workspace", "membership__profile")
        .filter(token=token, membership__is_active=True)
        .first()
    )


def feed_bookings(membership) -> list:
    """The staff member's bookings for the outgoing feed, from the bookings module once it provides them."""
    try:
        from jasa.bookings.selectors import bookings_for_feed
    except ImportError:  # the bookings selector has not landed yet: an empty, valid feed
        return []
    return [b for b in bookings_for_feed(membership) if getattr(b, "status", "confirmed") not in ("cancelled", "expired")]
