"""Signed links that let a client manage a booking without logging in.

The link carries the booking id and its manage token, signed: the signature proves jasa made it, and
the token (which staff can rotate) lets a leaked link be revoked. It has no time in it, so a booking has
one link (the same in every message); links made with a timestamp before that still open.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "jasa.bookings.manage"


def manage_signature(booking) -> str:
    return signing.Signer(salt=SALT).sign_object({"b": str(booking.pk), "t": booking.manage_token}, compress=True)


def manage_path(booking, name: str = "bookings:manage") -> str:
    return reverse(name, kwargs={"signed": manage_signature(booking)})


def manage_url(booking, name: str = "bookings:manage") -> str:
    return settings.SITE_URL + manage_path(booking, name)


def booking_from_signature(signed: str):
    """The booking a signed link (or a bare manage token) points to, or None."""
    from jasa.bookings.models import Booking

    if not signed:
        return None
    # today's links are "payload:signature"; older ones "payload:timestamp:signature"
    signer = signing.TimestampSigner(salt=SALT) if signed.count(":") == 2 else signing.Signer(salt=SALT)
    try:
        data = signer.unsign_object(signed)
    except (signing.BadSignature, ValueError):  # binascii.Error is a ValueError
        return Booking.objects.filter(manage_token=signed).first()
    if not isinstance(data, dict):
        return None
    return Booking.objects.filter(pk=data.get("b"), manage_token=data.get("t")).first()
