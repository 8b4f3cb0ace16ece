"""The client's signed manage link: one stable link per booking, older timestamped links still open,
a rotated manage token revokes them, anything else finds nothing."""

from __future__ import annotations

import pytest
from django.core import signing

from jasa.bookings.links import SALT, booking_from_signature, manage_signature
from tests.bookings.conftest import FRI_9

pytestmark = pytest.mark.django_db


def test_one_link_per_booking_and_older_links_still_open(hold):
    booking = hold(start=FRI_9)
    assert manage_signature(booking) == manage_signature(booking)  # no time inside: the same in every message
    assert booking_from_signature(manage_signature(booking)) == booking
    older = signing.dumps({"b": str(booking.pk), "t": booking.manage_token}, salt=SALT, compress=True)
    assert booking_from_signature(older) == booking
    assert booking_from_signature(booking.manage_token) == booking  # the bare token (API header)


def test_a_rotated_token_or_a_forged_link_finds_nothing(hold):
    booking = hold(start=FRI_9)
    link = manage_signature(booking)
    assert booking_from_signature(link[:-2] + "xx") is None
    assert booking_from_signature(signing.Signer(salt="other").sign_object({"b": str(booking.pk)})) is None
    booking.manage_token = "rotated-token"
    booking.save(update_fields=["manage_token"])
    assert booking_from_signature(link) is None
