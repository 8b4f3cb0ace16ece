"""API routes for accounts."""

from ninja import Router

router = Router(tags=["accounts"])
