"""Bookings: a reserved consultation, from hold to outcome.

A booking blocks its staff member's time from ``block_start`` to ``block_end`` (the session
widened by the offer's buffers) while it is ``awaiting_deposit`` (a hold) or ``confirmed``.
No two blocking bookings of one staff member may overlap: on PostgreSQL an exclusion
constraint says so (migration 0003, PostgreSQL only); on SQLite every write transaction is
IMMEDIATE, so holds are serialized and re-checked inside the transaction
(:func:`jasa.bookings.services.booking_hold`).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from jasa.bookings.models_availability import *  # noqa
from jasa.core.errors import InvalidTransition
from jasa.core.models import WorkspaceOwned
from jasa.core.money import Money


def _manage_token() -> str:
    return secrets.token_urlsafe(24)


class BookingStatus(models.TextChoices):
    AWAITING_DEPOSIT = "awaiting_deposit", _("Awaiting deposit")
    CONFIRMED = "confirmed", _("Confirmed")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Hold expired")


# Statuses that occupy the staff member's time (the exclusion constraint's condition).
BLOCKING = (BookingStatus.AWAITING_DEPOSIT.value, BookingStatus.CONFIRMED.value)

# Transitions only move forward.
TRANSITIONS: dict[str, set[str]] = {
    BookingStatus.AWAITING_DEPOSIT: {BookingStatus.CONFIRMED, BookingStatus.EXPIRED, BookingStatus.CANCELLED},
    # A deposit paid after its hold lapsed may still confirm when the slot is free again.
    BookingStatus.EXPIRED: {BookingStatus.CONFIRMED},
    BookingStatus.CONFIRMED: {BookingStatus.ATTENDED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED},
    BookingStatus.ATTENDED: set(),
    BookingStatus.NO_SHOW: set(),
    BookingStatus.CANCELLED: set(),
}


class Booking(WorkspaceOwned):
    """A hold or a booking. Its offer, staff member and client cannot be deleted while it exists (RESTRICT),
    except together with the whole workspace."""

    Status = BookingStatus

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="bookings")
    offer = models.ForeignKey("catalog.ConsultationOffer", on_delete=models.RESTRICT, related_name="bookings")
    staff = models.ForeignKey("accounts.Membership", on_delete=models.RESTRICT, related_name="bookings")
    client = models.ForeignKey("accounts.Client", on_delete=models.RESTRICT, related_name="bookings")
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    # The session widened by the offer's buffers at booking time: what the constraint compares.
    block_start = models.DateTimeField()
    block_end = models.DateTimeField()
    status = models.CharField(max_length=20, choices=BookingStatus.choices, default=BookingStatus.AWAITING_DEPOSIT)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    client_language = models.CharField(max_length=8, default="id")
    client_time_zone = models.CharField(max_length=64, default="Asia/Jakarta")

    currency = models.CharField(max_length=3, default="IDR")
    price_amount = models.BigIntegerField(default=0)
    deposit_amount = models.BigIntegerField(default=0)
    deposit_paid_amount = models.BigIntegerField(default=0)
    deposit_refunded_amount = models.BigIntegerField(default=0)
    # Granted by the refund policy but not returnable through the gateway (VA, store): the business transfers it.
    refund_owed_amount = models.BigIntegerField(default=0)
    deposit_invoice = models.ForeignKey(
        "payments.Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    balance_invoice = models.ForeignKey(
        "payments.Invoice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checkout_url = models.URLField(max_length=1000, blank=True)
    # The video link (Google Meet) of the event written to the staff calendar. The calendar job writes the
    # event after the booking confirms, so this is usually empty when the confirmation goes out; reminders
    # and the booking page read it when they are shown (see docs/bookings.md, "The video link").
    conference_url = models.URLField(_("video link"), max_length=500, blank=True, default="")

    manage_token = models.CharField(max_length=64, unique=True, default=_manage_token)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="when it was cancelled, expired or marked")
    end_reason = models.CharField(max_length=200, blank=True)
    cancelled_by = models.CharField(max_length=20, blank=True, help_text="client | staff | system")
    reschedule_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["start_at"]
        indexes = [
            models.Index(fields=["staff", "status", "block_start"]),
            models.Index(fields=["workspace", "start_at"]),
            models.Index(fields=["status", "hold_expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_at__gt=models.F("start_at")), name="booking_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(block_start__lte=models.F("start_at")) & models.Q(block_end__gte=models.F("end_at")),
                name="booking_block_covers_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer} {self.start_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_blocking(self) -> bool:
        return self.status in BLOCKING

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def deposit(self) -> Money:
        return Money(self.deposit_amount, self.currency)

    @property
    def balance(self) -> Money:
        return Money(self.price_amount - self.deposit_amount, self.currency)

    @property
    def deposit_kept(self) -> Money:
        return Money(max(0, self.deposit_paid_amount - self.deposit_refunded_amount - self.refund_owed_amount),
                     self.currency)

    @classmethod
    def locked(cls, pk) -> Booking:
        """The row under a write lock (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction locks anyway)."""
        return cls.objects.select_for_update().select_related("offer", "client", "staff__user", "workspace").get(pk=pk)

    def move_to(self, status: str) -> str:
        """Change status if the transition is allowed; returns the previous status. Caller saves and audits."""
        if status not in TRANSITIONS.get(self.status, set()):
            raise InvalidTransition(
                _("This booking is %(status)s and cannot become %(to)s.")
                % {"status": self.get_status_display(), "to": BookingStatus(status).label}
            )
        previous = self.status
        self.status = status
        return previous
