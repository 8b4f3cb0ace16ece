"""What bookings tells people, through the notifications outbox (templates in templates/notifications/)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import override

from jasa.bookings.ics import booking_ics, google_calendar_url, outlook_calendar_url
from jasa.bookings.links import manage_url
from jasa.bookings.selectors import video_link_expected
from jasa.core.money import Money


def _notify(**kwargs):
    from jasa.notifications.services import notify

    return notify(**kwargs)


def local_time(value, zone: str, language: str) -> str:
    with override(language):
        return formats.date_format(value.astimezone(ZoneInfo(zone)), "l, j F Y H:i") + f" ({zone})"


def context(booking, language: str, zone: str | None = None) -> dict:
    zone = zone or booking.client_time_zone
    staff_name = getattr(getattr(booking.staff, "profile", None), "display_name", "") or str(booking.staff.user)
    return {
        "booking_id": str(booking.pk),
        "workspace_name": booking.workspace.name,
        "client_name": booking.client.name,
        "offer_name": booking.offer.name(language),
        "staff_name": staff_name,
        "start": local_time(booking.start_at, zone, language),
        "duration_minutes": booking.offer.duration_minutes,
        "location": booking.offer.location_detail or str(booking.offer.get_location_kind_display()),
        # Known once the calendar job wrote the event (after the confirmation, usually): reminders have it.
        "video_url": booking.conference_url,
        "video_pending": video_link_expected(booking),
        "price": booking.price.format(language),
        "deposit": booking.deposit.format(language),
        "balance": booking.balance.format(language),
        "manage_url": manage_url(booking),
        "google_url": google_calendar_url(booking, language),
        "outlook_url": outlook_calendar_url(booking, language),
        "status": booking.status,
        "login_url": _login_url(),
    }


def _login_url() -> str:
    """Guests get an account for their email; they reach it with a login code sent there (allauth)."""
    from django.conf import settings
    from django.urls import reverse

    return settings.SITE_URL + reverse("account_request_login_code")


def _ics_attachment(booking) -> dict:
    return {
        "filename": "booking.ics",
        "content_type": "text/calendar; method=PUBLISH; charset=utf-8",
        "content": booking_ics(booking),
    }


def _to_client(booking, template: str, key: str, extra: dict | None = None, channels=("email", "whatsapp"),
               ics: bool = False) -> None:
    language = booking.client_language
    ctx = {**context(booking, language), **(extra or {})}
    for channel in channels:
        recipient = booking.client.email if channel == "email" else booking.client.phone
        if not recipient:
            continue
        _notify(
            workspace=booking.workspace, channel=channel, recipient=recipient, template=template, context=ctx,
            language=language, dedupe_key=f"{key}:{channel}",
            attachments=[_ics_attachment(booking)] if ics and channel == "email" else None,
        )


def _to_staff(booking, template: str, key: str, extra: dict | None = None) -> None:
    user = booking.staff.user
    language = getattr(user, "language", "id") or "id"
    zone = getattr(getattr(booking.staff, "profile", None), "time_zone", None) or booking.workspace.time_zone
    ctx = {**context(booking, language, zone), "client_email": booking.client.email,
           "client_phone": booking.client.phone, "answers": booking.answers, **(extra or {})}
    _notify(workspace=booking.workspace, channel="email", recipient=user.email, template=template, context=ctx,
            language=language, dedupe_key=f"{key}:staff", attachments=[_ics_attachment(booking)])


def booking_confirmed(booking) -> None:
    key = f"booking:{booking.pk}:confirmed"
    _to_client(booking, "bookings.confirmed", key, ics=True)
    _to_staff(booking, "bookings.staff_new", key)


def booking_reminder(booking, offset_minutes: int, channels, start_key: str) -> None:
    hours = offset_minutes // 60
    extra = {"in_hours": hours, "in_minutes": offset_minutes}
    _to_client(booking, "bookings.reminder", f"booking:{booking.pk}:reminder:{offset_minutes}:{start_key}",
               extra, channels=channels)


def refund_context(booking, refunded, language: str) -> dict:
    """What a cancellation gives back: ``refunded`` through the gateway now, and the part the gateway cannot
    refund (VA, store) that the business transfers to the client's bank account — with the account when the
    client gave it, else the link to give it, and when to expect it: within the workspace's stated working days
    (``Workspace.refund_transfer_days``), else by its refund policy (where it says when)."""
    from jasa.bookings.billing import owed_refunds

    owed = booking.refund_owed_amount
    accounts = [r for r in owed_refunds(booking) if r.has_account] if owed else []
    account = f"{accounts[0].bank_name} ****{accounts[0].account_number[-4:]}" if accounts else ""
    days = booking.workspace.refund_transfer_days if owed else None
    return {
        "refunded": refunded.format(language),
        "refunded_now": refunded.amount > 0,
        "transfer_amount": Money(owed, booking.currency).format(language) if owed else "",
        "transfer_account": account,
        "account_url": manage_url(booking) if owed and not account else "",
        # one line: a WhatsApp template parameter may not hold a line break
        "transfer_days": days or 0,
        "refund_policy": " ".join(booking.workspace.text("refund_policy", language).split()) if owed and not days else "",
    }


def booking_cancelled(booking, refunded) -> None:
    """``refunded``: the Money refunded through the gateway by this cancellation."""
    key = f"booking:{booking.pk}:cancelled"
    _to_client(booking, "bookings.cancelled", key, refund_context(booking, refunded, booking.client_language),
               ics=True)
    language = getattr(booking.staff.user, "language", "id") or "id"
    _to_staff(booking, "bookings.staff_cancelled", key, refund_context(booking, refunded, language))


def booking_rescheduled(booking) -> None:
    key = f"booking:{booking.pk}:rescheduled:{booking.reschedule_count}"
    _to_client(booking, "bookings.rescheduled", key, ics=True)
    _to_staff(booking, "bookings.staff_rescheduled", key)


def balance_due(booking, invoice, round_no: int, pay_url: str) -> None:
    _to_client(booking, "bookings.balance_due", f"booking:{booking.pk}:balance:{round_no}",
               {"invoice_number": invoice.number or "", "amount": invoice.total.format(booking.client_language),
                "pay_url": pay_url})
