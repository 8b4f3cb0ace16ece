"""Every write about bookings: hold, confirm, expire, cancel, reschedule, outcomes, reminders.

Double booking is impossible by construction: a hold locks its staff member's row, expires
that staff member's lapsed holds, re-checks overlaps and inserts, all in one transaction
(IMMEDIATE on SQLite, so writers queue); on PostgreSQL an exclusion constraint backs it up
and an IntegrityError becomes the same 409 Conflict.
"""

from __future__ import annotations

import datetime as dt
import logging
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jasa.accounts.models import Membership
from jasa.bookings import billing, messages
from jasa.bookings.models import BLOCKING, Booking, BookingStatus
from jasa.bookings.phone import normalize_phone
from jasa.core import audit, clock, jobs
from jasa.core.errors import Conflict, JasaError, NotFound, PermissionDenied, ValidationError
from jasa.core.money import Money
from jasa.payments.services import GatewayUnavailable

log = logging.getLogger(__name__)

HOLD_JOB = "booking.hold_expiry"
REMINDER_JOB = "booking.reminder"
BALANCE_ISSUE_JOB = "booking.balance_issue"
BALANCE_REMINDER_JOB = "booking.balance_reminder"
CALENDAR_JOB = "booking.calendar_sync"
CONFIRM_RETRY_JOB = "booking.confirm_retry"
BALANCE_REMINDER_DAYS = (1, 3, 7)
DEFAULT_CHANNELS = ["email", "whatsapp"]


def _key(booking: Booking, *parts) -> str:
    return ":".join(["booking", str(booking.pk), *(str(p) for p in parts)])


def _snapshot(booking: Booking) -> dict:
    return {"status": booking.status, "start": booking.start_at.isoformat(), "staff": str(booking.staff_id)}


def _taken() -> Conflict:
    return Conflict(_("This time is no longer free. Please choose another time."), code="slot_taken", field="start")


# --- input -------------------------------------------------------------------------------------------------


def clean_answers(offer, answers) -> dict:
    """Keep the answers to the offer's questions; a required question left empty is a field error."""
    answers = answers or {}
    if not isinstance(answers, dict):
        raise ValidationError(_("Answers must be an object of question keys to text."), field="answers")
    out: dict[str, str] = {}
    for question in offer.questions or []:
        key = str(question.get("key", ""))
        value = str(answers.get(key, "") or "").strip()[:2000]
        if question.get("required") and not value:
            raise ValidationError(_("Please answer this question."), field=f"answers.{key}")
        if value:
            out[key] = value
    return out


def plausible_start(start: dt.datetime) -> bool:
    """Within a day ago and ten years ahead: anything else is no slot (and keeps date arithmetic in range)."""
    now = clock.now()
    try:
        return now - dt.timedelta(days=1) <= start <= now + dt.timedelta(days=3660)
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        return False


def _zone_name(name: str | None, default: str) -> str:
    if not name:
        return default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(_("Unknown time zone."), field="tz")
    return name


# --- hold --------------------------------------------------------------------------------------------------


def _expire_lapsed_holds(staff_id, now: dt.datetime) -> None:
    """Lazily apply hold expiry for one staff member inside the hold transaction (the sweep may lag)."""
    lapsed = Booking.objects.filter(
        staff_id=staff_id, status=BookingStatus.AWAITING_DEPOSIT, hold_expires_at__lte=now
    ).exclude(deposit_invoice__status="paid")  # paid but not yet confirmed (event missed): the expiry job confirms
    for booking in lapsed:
        _expire(booking, now, reason="hold lapsed")


def _overlapping(staff_id, block_start, block_end, exclude=None):
    qs = Booking.objects.filter(staff_id=staff_id, status__in=BLOCKING, block_start__lt=block_end,
                                block_end__gt=block_start)
    return qs.exclude(pk=exclude) if exclude else qs


def _within_limits(offer, staff_id, start: dt.datetime, exclude=None) -> bool:
    if offer.daily_limit is None and offer.weekly_limit is None:
        return True
    tz = offer.workspace.tz
    day = start.astimezone(tz).date()
    qs = Booking.objects.filter(staff_id=staff_id, status__in=[*BLOCKING, BookingStatus.ATTENDED])
    if exclude:
        qs = qs.exclude(pk=exclude)
    if offer.daily_limit is not None:
        lo = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
        if qs.filter(start_at__gte=lo, start_at__lt=lo + dt.timedelta(days=1)).count() >= offer.daily_limit:
            return False
    if offer.weekly_limit is not None:
        monday = dt.datetime.combine(day - dt.timedelta(days=day.weekday()), dt.time(0), tzinfo=tz)
        if qs.filter(start_at__gte=monday, start_at__lt=monday + dt.timedelta(days=7)).count() >= offer.weekly_limit:
            return False
    return True


def _block(offer, start: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    end = start + dt.timedelta(minutes=offer.duration_minutes)
    return (end, start - dt.timedelta(minutes=offer.buffer_before_minutes),
            end + dt.timedelta(minutes=offer.buffer_after_minutes))


@transaction.atomic
def _hold_for(*, offer, membership: Membership, start: dt.datetime, client, answers: dict, language: str,
              time_zone: str) -> Booking:
    # The row lock per staff member: concurrent holds for one person queue here (SQLite: the IMMEDIATE
    # transaction already holds the database's write lock).
    Membership.objects.select_for_update().filter(pk=membership.pk).first()
    now = clock.now()
    _expire_lapsed_holds(membership.pk, now)
    end, block_start, block_end = _block(offer, start)
    if _overlapping(membership.pk, block_start, block_end).exists() or not _within_limits(offer, membership.pk, start):
        raise _taken()
    deposit = offer.deposit
    booking = Booking(
        workspace=offer.workspace, offer=offer, staff=membership, client=client, start_at=start, end_at=end,
        block_start=block_start, block_end=block_end, answers=answers, client_language=language,
        client_time_zone=time_zone, currency=offer.currency, price_amount=offer.price_amount,
        deposit_amount=deposit.amount, hold_expires_at=now + dt.timedelta(minutes=offer.hold_minutes),
    )
    try:
        with transaction.atomic():
            booking.save(force_insert=True)
    except IntegrityError:  # the exclusion constraint (PostgreSQL): someone else holds this time
        raise _taken()
    audit.record(booking, "booking.held", after={**_snapshot(booking), "hold_expires_at": booking.hold_expires_at})
    if deposit.is_zero:
        return booking
    booking.deposit_invoice = billing.invoice_for(booking, what="deposit", amount=deposit,
                                                  due_at=booking.hold_expires_at)
    booking.save(update_fields=["deposit_invoice", "updated_at"])
    jobs.schedule(HOLD_JOB, key=_key(booking, "hold"), due_at=booking.hold_expires_at,
                  payload={"booking": str(booking.pk)}, workspace=booking.workspace, reschedule=True)
    return booking


def booking_hold(*, offer, start: dt.datetime, client_name: str, client_email: str, client_phone: str = "",
                 answers: dict | None = None, staff: Membership | None = None, language: str = "id",
                 time_zone: str | None = None, return_url: str = "") -> Booking:
    """Reserve ``start`` for this client while the deposit is paid. Raises Conflict when the time is taken.

    The deposit payment is started after the hold commits (a gateway call never runs under the lock);
    a zero deposit confirms at once.
    """
    from jasa.bookings.availability import free_staff_at, slot_is_free

    if not offer.is_active:
        raise NotFound(_("This consultation is not offered any more."))
    if start.tzinfo is None:
        raise ValidationError(_("Give the time with its UTC offset."), field="start")
    if not plausible_start(start):
        raise _taken()
    start = start.astimezone(dt.UTC)
    answers = clean_answers(offer, answers)
    phone = ""
    if client_phone:
        try:
            phone = normalize_phone(client_phone)
        except ValueError as exc:
            raise ValidationError(str(exc), field="client.phone")
    language = language if language in ("id", "en") else "id"
    time_zone = _zone_name(time_zone, offer.workspace.time_zone)
    if staff is not None:
        if not offer.staff.filter(pk=staff.pk, is_active=True).exists():
            raise ValidationError(_("This staff member does not give this consultation."), field="staff")
        candidates = [staff] if slot_is_free(offer, staff, start) else []
    else:
        candidates = free_staff_at(offer, start)
    if not candidates:
        raise _taken()
    client = _client_for(offer, client_email, client_name, phone, language, time_zone)
    booking = None
    for membership in candidates:
        try:
            booking = _hold_for(offer=offer, membership=membership, start=start, client=client, answers=answers,
                                language=language, time_zone=time_zone)
            break
        except Conflict:
            continue
    if booking is None:
        raise _taken()
    _guest_login_ready(client)
    if booking.deposit_invoice_id is None:
        return booking_confirm(booking=booking)
    return booking_start_payment(booking=booking, return_url=return_url)


def _client_for(offer, email: str, name: str, phone: str, language: str, time_zone: str):
    """The workspace's client (and user account) for this email; a concurrent first booking with the same
    email loses the insert race and simply reads the winner's row."""
    from jasa.accounts.services import client_get_or_create

    for attempt in range(3):
        try:
            with transaction.atomic():
                return client_get_or_create(workspace=offer.workspace, email=email, name=name, phone=phone,
                                            language=language, time_zone=time_zone)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _guest_login_ready(client) -> None:
    """A guest's account can log in by emailed code (allauth) once its address is on record."""
    from allauth.account.models import EmailAddress

    if client.user_id and not EmailAddress.objects.filter(user_id=client.user_id).exists():
        EmailAddress.objects.get_or_create(user_id=client.user_id, email=client.email,
                                           defaults={"primary": True, "verified": False})


_PAYMENT_DEAD = {"failed", "canceled", "expired"}


def booking_start_payment(*, booking: Booking, return_url: str = "", save_method: bool = False) -> Booking:
    """Start (idempotently) the deposit payment and remember its hosted checkout address. ``save_method``:
    the client consented to keeping their card (see billing.payment_start)."""
    from jasa.bookings.links import manage_url

    if booking.status != BookingStatus.AWAITING_DEPOSIT:
        return booking
    try:
        intent = billing.payment_start(booking, return_url=return_url or manage_url(booking), save_method=save_method)
    except Exception as exc:  # no payment possible: release the hold rather than keep a slot nobody can pay
        log.warning("deposit payment for booking %s could not start: %s", booking.pk, exc)
        if booking.checkout_url:  # a payment exists already; the client can still use it
            return booking
        booking_expire_hold(booking=booking, force=True, reason="payment could not start")
        if isinstance(exc, JasaError) and exc.status < 500:
            raise
        raise GatewayUnavailable(_("The payment service is not answering. Please try again in a minute."))
    if getattr(intent, "status", "") in _PAYMENT_DEAD:
        # The gateway refused at once (its failure signal has already released the hold): the
        # client must not be told the slot is held for a payment that cannot be made.
        booking.refresh_from_db(fields=["status"])
        if booking.status == BookingStatus.AWAITING_DEPOSIT:
            booking_expire_hold(booking=booking, force=True, reason="payment failed")
        raise GatewayUnavailable(_("The payment could not be started. Please choose the time again."))
    url = getattr(intent, "checkout_url", "") or ""
    if url and url != booking.checkout_url:
        Booking.objects.filter(pk=booking.pk).update(checkout_url=url)
        booking.checkout_url = url
    return booking


# --- hold expiry -------------------------------------------------------------------------------------------


def _expire(booking: Booking, now: dt.datetime, reason: str) -> None:
    previous = booking.move_to(BookingStatus.EXPIRED)
    booking.ended_at = now
    booking.end_reason = reason
    booking.save(update_fields=["status", "ended_at", "end_reason", "updated_at"])
    jobs.cancel(_key(booking, "hold"))
    audit.record(booking, "booking.hold_expired", before={"status": previous},
                 after={"status": booking.status, "reason": reason})


@transaction.atomic
def booking_extend_hold(*, booking: Booking, until: dt.datetime) -> Booking:
    """A VA / QRIS / store payment is pending: keep the slot until that payment itself expires."""
    booking = Booking.locked(booking.pk)
    if booking.status != BookingStatus.AWAITING_DEPOSIT or (booking.hold_expires_at and until <= booking.hold_expires_at):
        return booking
    before = booking.hold_expires_at
    booking.hold_expires_at = until
    booking.save(update_fields=["hold_expires_at", "updated_at"])
    jobs.schedule(HOLD_JOB, key=_key(booking, "hold"), due_at=until, payload={"booking": str(booking.pk)},
                  workspace=booking.workspace, reschedule=True)
    audit.record(booking, "booking.hold_extended", before={"hold_expires_at": before}, after={"hold_expires_at": until})
    return booking


@transaction.atomic
def booking_expire_hold(*, booking: Booking, force: bool = False, reason: str = "hold lapsed") -> Booking:
    """Free the slot of an unpaid hold whose time ran out (or at once with ``force``: payment failed)."""
    booking = Booking.locked(booking.pk)
    if booking.status != BookingStatus.AWAITING_DEPOSIT:
        return booking
    if booking.deposit_invoice is not None and booking.deposit_invoice.status == "paid":
        # The deposit was paid but its event never reached us (a crash after the payment committed).
        return booking_confirm(booking=booking)
    now = clock.now()
    if not force:
        pending_until = billing.pending_payment_expiry(booking.deposit_invoice)
        if pending_until and pending_until > now and pending_until > (booking.hold_expires_at or now):
            return booking_extend_hold(booking=booking, until=pending_until)
        if booking.hold_expires_at and booking.hold_expires_at > now:
            return booking
    _expire(booking, now, reason)
    return booking


# --- confirmation ------------------------------------------------------------------------------------------


@transaction.atomic
def booking_confirm(*, booking: Booking, payment=None) -> Booking:
    """The deposit is paid: confirm (once), block the calendar, send confirmations, plan reminders and balance.

    A deposit that arrives after its hold lapsed still confirms when the time is free; when someone
    else took it meanwhile, the deposit is refunded in full.
    """
    booking = Booking.locked(booking.pk)
    if booking.status == BookingStatus.CONFIRMED or booking.status in (
        BookingStatus.ATTENDED, BookingStatus.NO_SHOW
    ):
        return booking
    paid = sum((p.applied_amount for p in billing.paid_payments(booking.deposit_invoice)), 0)
    if booking.status in (BookingStatus.EXPIRED, BookingStatus.CANCELLED):
        if booking.status == BookingStatus.EXPIRED and not _overlapping(
            booking.staff_id, booking.block_start, booking.block_end, exclude=booking.pk
        ).exists():
            pass  # the slot is still free: confirm below
        else:
            return _refund_late_deposit(booking, paid)
    now = clock.now()
    previous = booking.move_to(BookingStatus.CONFIRMED)
    booking.confirmed_at = now
    booking.hold_expires_at = None
    booking.deposit_paid_amount = paid
    booking.ended_at = None
    booking.end_reason = ""
    try:
        with transaction.atomic():
            booking.save(update_fields=["status", "confirmed_at", "hold_expires_at", "deposit_paid_amount",
                                        "ended_at", "end_reason", "updated_at"])
    except IntegrityError:  # PostgreSQL constraint: a late deposit for a slot that was taken meanwhile
        booking.refresh_from_db()
        return _refund_late_deposit(booking, paid)
    jobs.cancel(_key(booking, "hold"))
    audit.record(booking, "booking.confirmed", before={"status": previous},
                 after={"status": booking.status, "deposit_paid": Money(paid, booking.currency)})
    _schedule_reminders(booking)
    _plan_balance(booking)
    messages.booking_confirmed(booking)
    _calendar_sync_soon(booking)
    return booking


def _refund_late_deposit(booking: Booking, paid: int) -> Booking:
    if paid <= booking.deposit_refunded_amount:
        return booking
    amount = Money(paid - booking.deposit_refunded_amount, booking.currency)
    refunded = billing.refund(booking, amount=amount, reason=_("The time was taken before the deposit arrived."))
    booking.deposit_paid_amount = paid
    booking.deposit_refunded_amount += refunded.amount
    booking.save(update_fields=["deposit_paid_amount", "deposit_refunded_amount", "updated_at"])
    audit.record(booking, "booking.late_deposit_refunded", after={"refunded": refunded})
    return booking


def _calendar_sync_soon(booking: Booking) -> None:
    """Put the booking in the staff member's calendar after commit; a failure is retried by a job."""
    jobs.schedule(CALENDAR_JOB, key=_key(booking, "calendar", booking.status, booking.reschedule_count),
                  due_at=clock.now(), payload={"booking": str(booking.pk)}, workspace=booking.workspace)


def booking_calendar_sync(booking: Booking) -> None:
    """Called by the calendar job: upsert the event for a live booking, delete it otherwise."""
    try:
        from jasa.calendars import services as calendar_services
    except ImportError:  # calendars not installed yet
        return
    if booking.status == BookingStatus.CONFIRMED:
        event = calendar_services.booking_event_upsert(booking)
        if event is not None:
            booking_remember_video_link(booking=booking, url=event.meet_url)
    else:
        calendar_services.booking_event_delete(booking)


def booking_remember_video_link(*, booking: Booking, url: str) -> bool:
    """Keep the video link the calendar made for the booking, for reminders and the booking page.

    Runs after the calendar job wrote the event, i.e. usually after the confirmation went out. An empty
    link (CalDAV, no Meet requested, a move that kept the old link) never clears a known one. Returns
    True when the stored link changed.
    """
    url = (url or "").strip()[:500]
    if not url or url == booking.conference_url:
        return False
    with transaction.atomic():
        before = Booking.objects.select_for_update().filter(pk=booking.pk).values_list(
            "conference_url", flat=True).first()
        if before is None or before == url:
            return False
        Booking.objects.filter(pk=booking.pk).update(conference_url=url, updated_at=clock.now())
        booking.conference_url = url
        audit.record(booking, "booking.video_link", before={"video_link": before}, after={"video_link": url})
    return True


# --- reminders and balance -----------------------------------------------------------------------------


def _start_key(booking: Booking) -> str:
    return booking.start_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M")


def _schedule_reminders(booking: Booking) -> None:
    """One job per reminder offset, keyed by the session's start: never twice for one start time."""
    jobs.cancel_prefix(_key(booking, "reminder") + ":")
    now = clock.now()
    channels = list(booking.offer.reminder_channels or DEFAULT_CHANNELS)
    for offset in booking.offer.reminders:
        due = booking.start_at - dt.timedelta(minutes=int(offset))
        if due <= now:
            continue
        jobs.schedule(REMINDER_JOB, key=_key(booking, "reminder", offset, _start_key(booking)), due_at=due,
                      payload={"booking": str(booking.pk), "offset": int(offset), "start": _start_key(booking),
                               "channels": channels},
                      workspace=booking.workspace)


def booking_send_reminder(*, booking_id: str, offset: int, start: str, channels) -> bool:
    """Job handler body: only a confirmed booking whose start is still the one planned gets a reminder."""
    booking = Booking.objects.select_related("offer", "client", "workspace", "staff__user").filter(pk=booking_id).first()
    if booking is None or booking.status != BookingStatus.CONFIRMED or _start_key(booking) != start:
        return False
    messages.booking_reminder(booking, offset, channels, start)
    return True


def _balance_due_at(booking: Booking) -> tuple[dt.datetime, dt.datetime]:
    """(when the balance invoice is issued, when it is due), by the offer's rule."""
    from jasa.catalog.models import BalanceDue

    offer = booking.offer
    now = clock.now()
    if offer.balance_due == BalanceDue.AFTER:
        return booking.end_at, booking.end_at + dt.timedelta(days=3)
    due = booking.start_at - dt.timedelta(hours=offer.balance_due_hours_before)
    if offer.balance_due == BalanceDue.BEFORE:
        return now, max(due, now)
    # AT_TIME: issued at the set time before the session, due by the session.
    return max(due, now), booking.start_at


def _plan_balance(booking: Booking) -> None:
    if booking.balance.is_zero or booking.balance_invoice_id:
        return
    issue_at, _due = _balance_due_at(booking)
    jobs.schedule(BALANCE_ISSUE_JOB, key=_key(booking, "balance"), due_at=issue_at,
                  payload={"booking": str(booking.pk)}, workspace=booking.workspace, reschedule=True)
    if issue_at <= clock.now():
        booking_issue_balance(booking=booking)
        booking.refresh_from_db(fields=["balance_invoice"])


@transaction.atomic
def booking_issue_balance(*, booking: Booking, force: bool = False, notify: bool = True) -> Booking:
    """Issue the balance invoice once (for a confirmed booking, or a no-show when the policy charges it).
    ``notify=False``: the caller sends the first notice itself (a no-show tries the saved card first)."""
    booking = Booking.locked(booking.pk)
    if booking.balance_invoice_id or booking.balance.is_zero:
        return booking
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED) and not force:
        return booking
    _issue, due = _balance_due_at(booking)
    invoice = billing.invoice_for(booking, what="balance", amount=booking.balance, due_at=due)
    booking.balance_invoice = invoice
    booking.save(update_fields=["balance_invoice", "updated_at"])
    jobs.cancel(_key(booking, "balance"))
    audit.record(booking, "booking.balance_invoiced", after={"invoice": str(invoice.pk), "amount": booking.balance})
    issued = clock.now()
    for n, days in enumerate(BALANCE_REMINDER_DAYS, start=1):
        jobs.schedule(BALANCE_REMINDER_JOB, key=_key(booking, "balance-reminder", n),
                      due_at=issued + dt.timedelta(days=days), payload={"booking": str(booking.pk), "round": n},
                      workspace=booking.workspace)
    if notify:
        transaction.on_commit(lambda: _send_balance_notice(booking.pk, 0))
    return booking


def _send_balance_notice(booking_id, round_no: int) -> bool:
    from jasa.payments.models import InvoiceStatus

    booking = Booking.objects.select_related("balance_invoice", "offer", "client", "workspace",
                                             "staff__user").filter(pk=booking_id).first()
    if booking is None or booking.balance_invoice is None or booking.balance_invoice.status != InvoiceStatus.OPEN:
        return False
    if booking.status == BookingStatus.CANCELLED:
        return False
    messages.balance_due(booking, booking.balance_invoice, round_no, _invoice_pay_url(booking.balance_invoice))
    return True


def _invoice_pay_url(invoice) -> str:
    """The invoice's signed pay link: the client opens it from the message without logging in."""
    from jasa.payments.views_client import pay_url

    return pay_url(invoice)


def booking_balance_reminder(*, booking_id: str, round_no: int) -> bool:
    return _send_balance_notice(booking_id, round_no)


# --- changes -----------------------------------------------------------------------------------------------


def _may_act(booking: Booking, by: str) -> None:
    if by not in ("client", "staff", "system"):
        raise ValidationError("by must be client, staff or system")


def refund_due(booking: Booking, by: str, now: dt.datetime | None = None) -> Money:
    """What a cancellation now gives back of the paid deposit, by the offer's policy.

    Staff cancelling refund the whole deposit (the business did not deliver); a client inside
    the refund window gets ``refund_percent``; later, nothing (the deposit is kept).
    """
    now = now or clock.now()
    paid = Money(booking.deposit_paid_amount - booking.deposit_refunded_amount, booking.currency)
    if paid.amount <= 0:
        return Money.zero(booking.currency)
    if by == "staff":
        return paid
    if now <= booking.start_at - dt.timedelta(hours=booking.offer.refund_until_hours):
        return paid.scale(Fraction(booking.offer.refund_percent, 100))
    return Money.zero(booking.currency)


def can_reschedule_free(booking: Booking, now: dt.datetime | None = None) -> bool:
    now = now or clock.now()
    return now <= booking.start_at - dt.timedelta(hours=booking.offer.free_reschedule_hours)


@transaction.atomic
def booking_cancel(*, booking: Booking, by: str = "client", reason: str = "") -> Booking:
    """Cancel a hold or a confirmed booking; refund what the policy grants through the payment core."""
    _may_act(booking, by)
    booking = Booking.locked(booking.pk)
    if booking.status == BookingStatus.CANCELLED:
        return booking
    if booking.status == BookingStatus.CONFIRMED and booking.start_at <= clock.now() and by == "client":
        raise Conflict(_("The session has started; it can no longer be cancelled here."))
    now = clock.now()
    refund = refund_due(booking, by, now) if booking.status == BookingStatus.CONFIRMED else Money.zero(booking.currency)
    previous = booking.move_to(BookingStatus.CANCELLED)
    booking.ended_at = now
    booking.cancelled_by = by
    booking.end_reason = (reason or "")[:200]
    booking.save(update_fields=["status", "ended_at", "cancelled_by", "end_reason", "updated_at"])
    jobs.cancel(_key(booking, "hold"))
    jobs.cancel_prefix(_key(booking, "reminder") + ":")
    jobs.cancel(_key(booking, "balance"))
    jobs.cancel_prefix(_key(booking, "balance-reminder") + ":")
    _void_balance(booking, reason or "booking cancelled")
    refunded = Money.zero(booking.currency)
    if refund.amount > 0:
        refunded = billing.refund(booking, amount=refund, reason=reason or _("Booking cancelled"))
        booking.deposit_refunded_amount += refunded.amount
        booking.refund_owed_amount += refund.amount - refunded.amount
        booking.save(update_fields=["deposit_refunded_amount", "refund_owed_amount", "updated_at"])
    audit.record(booking, "booking.cancelled", before={"status": previous},
                 after={"status": booking.status, "by": by, "refunded": refunded, "reason": reason,
                        "refund_owed": Money(booking.refund_owed_amount, booking.currency)})
    if previous == BookingStatus.CONFIRMED:
        messages.booking_cancelled(booking, refunded)
        _calendar_sync_soon(booking)
    return booking


def _void_balance(booking: Booking, reason: str) -> None:
    """A cancelled session owes no balance: void its open balance invoice (best effort, in a savepoint)."""
    from jasa.payments.services import invoice_void

    invoice = booking.balance_invoice
    if invoice is None or invoice.status != "open":
        return
    try:
        with transaction.atomic():
            invoice_void(invoice, reason)
    except JasaError as exc:
        log.warning("balance invoice %s of booking %s not voided: %s", invoice.pk, booking.pk, exc)


@transaction.atomic
def booking_reschedule(*, booking: Booking, start: dt.datetime, by: str = "client") -> Booking:
    """Move a confirmed booking to another free time of the same staff member (clients: inside the free window)."""
    from jasa.bookings.availability import slot_is_free

    _may_act(booking, by)
    if start.tzinfo is None:
        raise ValidationError(_("Give the time with its UTC offset."), field="start")
    if not plausible_start(start):
        raise _taken()
    start = start.astimezone(dt.UTC)
    booking = Booking.locked(booking.pk)
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict(_("Only a confirmed booking can be moved."))
    if by == "client" and not can_reschedule_free(booking):
        raise PermissionDenied(
            _("Free rescheduling ended %(hours)s hours before the session. Please contact us.")
            % {"hours": booking.offer.free_reschedule_hours}
        )
    if start == booking.start_at:
        return booking
    if not slot_is_free(booking.offer, booking.staff, start, exclude_booking=booking):
        raise _taken()
    Membership.objects.select_for_update().filter(pk=booking.staff_id).first()
    _expire_lapsed_holds(booking.staff_id, clock.now())
    end, block_start, block_end = _block(booking.offer, start)
    if _overlapping(booking.staff_id, block_start, block_end, exclude=booking.pk).exists() or not _within_limits(
        booking.offer, booking.staff_id, start, exclude=booking.pk
    ):
        raise _taken()
    before = _snapshot(booking)
    booking.start_at, booking.end_at, booking.block_start, booking.block_end = start, end, block_start, block_end
    booking.reschedule_count += 1
    try:
        with transaction.atomic():
            booking.save(update_fields=["start_at", "end_at", "block_start", "block_end", "reschedule_count",
                                        "updated_at"])
    except IntegrityError:
        raise _taken()
    audit.record(booking, "booking.rescheduled", before=before, after={**_snapshot(booking), "by": by})
    _schedule_reminders(booking)
    if not booking.balance_invoice_id and not booking.balance.is_zero:
        issue_at, _due = _balance_due_at(booking)
        jobs.schedule(BALANCE_ISSUE_JOB, key=_key(booking, "balance"), due_at=issue_at,
                      payload={"booking": str(booking.pk)}, workspace=booking.workspace, reschedule=True)
    messages.booking_rescheduled(booking)
    _calendar_sync_soon(booking)
    return booking


def _outcome(booking: Booking, status: str, action: str) -> Booking:
    booking = Booking.locked(booking.pk)
    if booking.status == status:
        return booking
    if booking.start_at > clock.now():
        raise Conflict(_("The session has not started yet."))
    previous = booking.move_to(status)
    booking.ended_at = clock.now()
    booking.save(update_fields=["status", "ended_at", "updated_at"])
    jobs.cancel_prefix(_key(booking, "reminder") + ":")
    audit.record(booking, action, before={"status": previous}, after={"status": status})
    return booking


@transaction.atomic
def booking_mark_attended(*, booking: Booking) -> Booking:
    booking = _outcome(booking, BookingStatus.ATTENDED, "booking.attended")
    _plan_balance(booking)
    booking.refresh_from_db()
    return booking


@transaction.atomic
def booking_mark_no_show(*, booking: Booking) -> Booking:
    """The client did not come: the deposit is kept; the balance is charged when the offer says so."""
    booking = _outcome(booking, BookingStatus.NO_SHOW, "booking.no_show")
    jobs.cancel(_key(booking, "balance"))
    if booking.offer.no_show_charges_balance:
        booking = booking_issue_balance(booking=booking, force=True, notify=False)
        booking_id = booking.pk
        transaction.on_commit(lambda: booking_charge_balance_saved(booking_id=booking_id))
        # then the pay link, unless the saved card has just paid it (the notice skips a paid invoice)
        transaction.on_commit(lambda: _send_balance_notice(booking_id, 0))
    return booking


def booking_charge_balance_saved(*, booking_id) -> bool:
    """Charge a no-show's balance off-session from the card the client saved for this business, if any.

    Runs after the no-show commits (a gateway call never runs under a row lock). Without a saved method
    whose card is still valid (an expired card is not tried), or when the charge is declined, the balance
    invoice stays open and its reminders ask the client to pay. The idempotency key makes a repeated call one charge. Returns True when a charge was started.
    """
    from jasa.payments.services import payment_charge_saved
    from jasa.payments.services_methods import usable_saved_method

    booking = Booking.objects.select_related("balance_invoice").filter(pk=booking_id).first()
    invoice = booking.balance_invoice if booking else None
    if invoice is None or invoice.status != "open":
        return False
    saved = usable_saved_method(workspace_id=booking.workspace_id, client_id=booking.client_id)
    if saved is None:
        return False
    try:
        payment = payment_charge_saved(invoice=invoice, saved_method=saved,
                                       idempotency_key=_key(booking, "no-show-balance"))
    except JasaError as exc:
        log.warning("no-show balance of booking %s not charged off-session: %s", booking.pk, exc.message)
        return False
    audit.record(booking, "booking.balance_charged", after={"payment": str(payment.pk), "status": payment.status})
    return True


# --- payment events ----------------------------------------------------------------------------------------


def on_invoice_paid(invoice, payment) -> None:
    booking = Booking.objects.filter(deposit_invoice=invoice).first()
    if booking is not None:
        booking_confirm(booking=booking, payment=payment)
        return
    booking = Booking.objects.filter(balance_invoice=invoice).first()
    if booking is not None:
        jobs.cancel_prefix(_key(booking, "balance-reminder") + ":")
        audit.record(booking, "booking.balance_paid", after={"invoice": str(invoice.pk)})


def on_payment_failed(payment) -> None:
    """A failed, cancelled or expired deposit payment releases the hold unless another payment is still pending."""
    booking = Booking.objects.filter(deposit_invoice_id=payment.invoice_id,
                                     status=BookingStatus.AWAITING_DEPOSIT).first()
    if booking is None:
        return
    if billing.pending_payment_expiry(booking.deposit_invoice):
        return
    booking_expire_hold(booking=booking, force=True, reason=f"payment {payment.status}")


def on_payment_status_changed(payment, old, new) -> None:
    """A VA / QRIS / store payment now waits for the client: keep the hold until that payment expires."""
    if new not in ("requires_action", "processing") or not payment.expires_at:
        return
    if (payment.method or "card") == "card":
        return
    booking = Booking.objects.filter(deposit_invoice_id=payment.invoice_id,
                                     status=BookingStatus.AWAITING_DEPOSIT).first()
    if booking is not None:
        booking_extend_hold(booking=booking, until=payment.expires_at)


def on_payment_refunded(payment, refund) -> None:
    """A deposit refund the business paid by bank transfer: it is no longer owed but refunded."""
    if refund.channel != "bank_transfer":
        return  # gateway refunds are counted by the call that made them (booking_cancel)
    found = Booking.objects.filter(deposit_invoice_id=payment.invoice_id).values_list("pk", flat=True).first()
    if found is None:
        return
    with transaction.atomic():
        booking = Booking.locked(found)
        before = {"refunded": booking.deposit_refunded_amount, "owed": booking.refund_owed_amount}
        booking.deposit_refunded_amount += refund.refund_amount
        booking.refund_owed_amount = max(0, booking.refund_owed_amount - refund.refund_amount)
        booking.save(update_fields=["deposit_refunded_amount", "refund_owed_amount", "updated_at"])
        audit.record(booking, "booking.refund_transferred", before=before,
                     after={"refunded": booking.deposit_refunded_amount, "owed": booking.refund_owed_amount,
                            "refund": str(refund.pk)})


@transaction.atomic
def booking_refund_account(*, booking: Booking, bank_name: str, account_number: str, account_holder: str) -> Booking:
    """The client says which bank account the refund owed to them goes to (the gateway could not refund it)."""
    from jasa.payments.services import refund_set_account

    owed = billing.owed_refunds(booking)
    if not owed:
        raise Conflict(_("No refund is waiting for a bank account."))
    for refund in owed:
        refund_set_account(refund=refund, bank_name=bank_name, account_number=account_number,
                           account_holder=account_holder)
    return booking
