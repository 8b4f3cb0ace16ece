"""API routes for bookings."""

from ninja import Router

router = Router(tags=["bookings"])
