"""API routes for offers, slots and bookings (issue 4, part 4: this contract exactly).

Public: listing offers and slots, creating a booking (a hold) and reading it by id.
Changing a booking needs its manage token (``X-Booking-Token`` header or ``?token=``; the
signed link's value works too) or a staff session of its workspace with bookings.manage.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.utils import check_csrf
from pydantic import field_validator

from jasa.accounts.permissions import can
from jasa.accounts.selectors import membership_for, workspace_by_slug
from jasa.api.schemas import Aware, ErrorOut, In
from jasa.bookings import services
from jasa.bookings.links import booking_from_signature, manage_url
from jasa.bookings.models import Booking
from jasa.bookings.phone import normalize_phone
from jasa.core import clock
from jasa.core.errors import NotFound, PermissionDenied, ValidationError

router = Router(tags=["bookings"])

MAX_SLOT_DAYS = 62


class MoneyOut(Schema):
    amount: int
    currency: str


class OfferOut(Schema):
    id: str
    slug: str
    name: str
    description: str
    duration_minutes: int
    price: MoneyOut
    deposit: MoneyOut
    balance: MoneyOut


class SlotOut(Schema):
    start: str
    end: str
    staff: str


class SlotsOut(Schema):
    tz: str
    slots: list[SlotOut]


class ClientIn(In):
    name: str = Field(..., min_length=1, max_length=200)
    email: str = Field(..., max_length=254)
    phone: str = Field(..., max_length=40)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Enter your name.")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        from django.core.exceptions import ValidationError as DjangoValidationError
        from django.core.validators import validate_email

        value = value.strip().lower()
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("Enter a valid email address.")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalize_phone(value)


class BookingIn(In):
    offer: uuid.UUID
    start: Aware
    staff: uuid.UUID | None = None
    client: ClientIn
    answers: dict[str, Any] = Field(default_factory=dict)
    language: str = "id"
    tz: str | None = None


class RescheduleIn(In):
    start: Aware


class CancelIn(In):
    reason: str = Field("", max_length=200)


class BookingPaymentOut(Schema):
    """The deposit to pay (not a payment of jasa.api.payments: its own name, as OpenAPI names by class)."""

    amount: MoneyOut
    checkout_url: str


class BookingOut(Schema):
    id: str
    status: str
    offer: str
    staff: str
    start: str
    end: str
    hold_expires_at: str | None
    payment: BookingPaymentOut
    price: MoneyOut
    deposit_refunded: MoneyOut
    # the Google Meet link once the calendar event exists (docs/bookings.md); only for the booking's
    # client (manage token) or its staff, as the booking id alone is not a credential
    video_link: str = ""


class BookingCreatedOut(BookingOut):
    manage_token: str
    manage_url: str


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 503: ErrorOut}


def _money(m) -> dict:
    return m.to_json()


def _iso(value: dt.datetime | None, tz: ZoneInfo | None = None) -> str | None:
    if value is None:
        return None
    return value.astimezone(tz or dt.UTC).isoformat()


def _booking_out(booking: Booking, *, with_token: bool = False, private: bool = True) -> dict:
    tz = ZoneInfo(booking.client_time_zone or booking.workspace.time_zone)
    out = {
        "id": str(booking.pk),
        "status": booking.status,
        "offer": str(booking.offer_id),
        "staff": str(booking.staff_id),
        "start": _iso(booking.start_at, tz),
        "end": _iso(booking.end_at, tz),
        "hold_expires_at": _iso(booking.hold_expires_at, tz) if booking.status == "awaiting_deposit" else None,
        "payment": {"amount": _money(booking.deposit), "checkout_url": booking.checkout_url or ""},
        "price": _money(booking.price),
        "deposit_refunded": {"amount": booking.deposit_refunded_amount, "currency": booking.currency},
        "video_link": booking.conference_url if private else "",
    }
    if with_token:
        out["manage_token"] = booking.manage_token
        out["manage_url"] = manage_url(booking)
    return out


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a "zone" too long for a file name
        raise ValidationError("Unknown time zone; use an IANA name such as Asia/Jakarta.", field="tz")


def _offer(offer_id) -> Any:
    from jasa.catalog.models import ConsultationOffer

    offer = ConsultationOffer.objects.select_related("workspace").filter(pk=offer_id, is_active=True).first()
    if offer is None:
        raise NotFound("No such offer.")
    return offer


def _language(request: HttpRequest) -> str:
    return "en" if getattr(request, "LANGUAGE_CODE", "id") == "en" else "id"


@router.get("/workspaces/{slug}/offers", response={200: list[OfferOut], **ERRORS}, auth=None)
def list_offers(request: HttpRequest, slug: str):
    """The workspace's active consultation offers."""
    from jasa.bookings.selectors import offers_for_workspace

    workspace = workspace_by_slug(slug)
    if workspace is None:
        raise NotFound("No such workspace.")
    lang = _language(request)
    return Status(200, [
        {"id": str(o.pk), "slug": o.slug, "name": o.name(lang), "description": o.description(lang),
         "duration_minutes": o.duration_minutes, "price": _money(o.price), "deposit": _money(o.deposit),
         "balance": _money(o.balance)}
        for o in offers_for_workspace(workspace)
    ])


@router.get("/offers/{offer_id}/slots", response={200: SlotsOut, **ERRORS}, auth=None)
def list_slots(request: HttpRequest, offer_id: uuid.UUID, start: dt.date, end: dt.date, tz: str = "Asia/Jakarta"):
    """Free start times from ``start`` to ``end`` (inclusive dates in ``tz``), each with its staff member."""
    from jasa.bookings.availability import available_slots
    from jasa.bookings.cache import cached_slots

    zone = _zone(tz)
    if end < start:
        raise ValidationError("end must not be before start.", field="end")
    if (end - start).days >= MAX_SLOT_DAYS:
        raise ValidationError(f"Ask for at most {MAX_SLOT_DAYS} days at a time.", field="end")

    def build(offer) -> list[tuple[int, str]]:
        # Nothing is bookable in the past or past the horizon; clamping also keeps date arithmetic in range.
        today = clock.today(zone)
        first, last = max(start, today - dt.timedelta(days=1)), min(end, today + dt.timedelta(days=offer.horizon_days + 1))
        slots = available_slots(offer, first, last, zone) if first <= last else []
        return [(int(s.start.timestamp()), json.dumps({
            "start": s.start.astimezone(zone).isoformat(), "end": s.end.astimezone(zone).isoformat(),
            "staff": s.staff_id})) for s in slots]

    # Each slot's JSON is cached as text (see jasa.bookings.cache: versioned per workspace, notice applied
    # on the way out; a fresh answer needs no database query) and the answer is joined here: the shape is
    # SlotsOut (documented above), and skipping the per-slot output validation keeps this hot endpoint cheap.
    slots = ", ".join(cached_slots(offer_id, (start, end, tz), lambda: _offer(offer_id), build))
    body = f'{{"tz": {json.dumps(tz)}, "slots": [{slots}]}}'
    return HttpResponse(body, content_type="application/json")


@router.post("/bookings", response={201: BookingCreatedOut, **ERRORS}, auth=None)
def create_booking(request: HttpRequest, payload: BookingIn):
    """Hold a slot while the deposit is paid: 201 with the checkout address, 409 when the slot is taken."""
    from jasa.accounts.models import Membership

    offer = _offer(payload.offer)
    staff = None
    if payload.staff is not None:
        staff = Membership.objects.filter(pk=payload.staff, workspace=offer.workspace, is_active=True).first()
        if staff is None:
            raise ValidationError("No such staff member for this offer.", field="staff")
    language = payload.language if payload.language in ("id", "en") else _language(request)
    booking = services.booking_hold(
        offer=offer, start=payload.start, staff=staff, client_name=payload.client.name,
        client_email=payload.client.email, client_phone=payload.client.phone, answers=payload.answers,
        language=language, time_zone=payload.tz or offer.workspace.time_zone,
    )
    return Status(201, _booking_out(booking, with_token=True))


def _booking(booking_id) -> Booking:
    booking = Booking.objects.select_related("offer", "workspace", "client", "staff__user").filter(
        pk=booking_id).first()
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def _actor(request: HttpRequest, booking: Booking) -> str:
    """'client' with the booking's manage token, 'staff' for a member who may manage it; otherwise refused."""
    token = request.headers.get("X-Booking-Token") or request.GET.get("token") or ""
    if token:
        found = booking_from_signature(token)
        if found is not None and found.pk == booking.pk:
            return "client"
    membership = membership_for(getattr(request, "user", None), booking.workspace)
    if membership is not None and (
        can(membership, "bookings.manage")
        or (can(membership, "bookings.manage_own") and membership.pk == booking.staff_id)
    ):
        if check_csrf(request) is not None:  # a session acting: the browser must prove the page is ours
            raise PermissionDenied("CSRF check failed; reload the page and try again.")
        return "staff"
    raise PermissionDenied("Send the booking's manage token (X-Booking-Token) or log in as its staff.")


@router.get("/bookings/{booking_id}", response={200: BookingOut, **ERRORS}, auth=None)
def get_booking(request: HttpRequest, booking_id: uuid.UUID):
    booking = _booking(booking_id)
    try:
        private = bool(_actor(request, booking))
    except PermissionDenied:
        private = False
    return Status(200, _booking_out(booking, private=private))


@router.post("/bookings/{booking_id}/cancel", response={200: BookingOut, **ERRORS}, auth=None)
def cancel_booking(request: HttpRequest, booking_id: uuid.UUID, payload: CancelIn | None = None):
    booking = _booking(booking_id)
    by = _actor(request, booking)
    booking = services.booking_cancel(booking=booking, by=by, reason=payload.reason if payload else "")
    return Status(200, _booking_out(booking))


@router.post("/bookings/{booking_id}/reschedule", response={200: BookingOut, **ERRORS}, auth=None)
def reschedule_booking(request: HttpRequest, booking_id: uuid.UUID, payload: RescheduleIn):
    booking = _booking(booking_id)
    by = _actor(request, booking)
    booking = services.booking_reschedule(booking=booking, start=payload.start, by=by)
    return Status(200, _booking_out(booking))
