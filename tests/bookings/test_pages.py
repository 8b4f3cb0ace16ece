"""The booking pages a client and staff see, through Django's test client."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.urls import reverse

from jasa.bookings.links import manage_path
from jasa.bookings.models import Booking, BookingStatus
from jasa.core import clock
from tests.bookings.conftest import FRI_9, THU_9

pytestmark = pytest.mark.django_db


def test_public_workspace_page_lists_offers(client, offer, workspace):
    resp = client.get(f"/{workspace.slug}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Konsultasi 60 menit" in html
    assert reverse("bookings:offer", kwargs={"ws": workspace.slug, "offer": offer.slug}) in html


def test_offer_page_shows_month_and_first_free_day(client, offer, workspace, now):
    url = reverse("bookings:offer", kwargs={"ws": workspace.slug, "offer": offer.slug})
    html = client.get(url).content.decode()
    assert 'data-day="2026-12-02"' in html and 'data-day="2026-12-03"' in html
    assert 'data-day="2026-12-05"' not in html  # Saturday: not working
    assert 'data-day="2026-12-01"' not in html  # the past
    # today is shown first: 10:00 now plus 2 hours' notice makes 12:00 the first time
    assert THU_9.replace(day=2, hour=12).isoformat() in html and THU_9.replace(day=2, hour=11).isoformat() not in html
    slots = client.get(reverse("bookings:day_slots", kwargs={"ws": workspace.slug, "offer": offer.slug}),
                       {"date": "2026-12-04", "tz": "Asia/Makassar"}).content.decode()
    assert FRI_9.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat() in slots
    assert ">10:00<" in slots and ">17:00<" in slots and ">09:00<" not in slots  # 09:00–17:00 WIB in WITA
    cal = client.get(url, {"month": "2027-01", "part": "calendar"}, headers={"HX-Request": "true"})
    assert cal.status_code == 200 and 'id="booking-calendar"' in cal.content.decode()
    assert client.get(reverse("bookings:offer", kwargs={"ws": workspace.slug, "offer": "nope"})).status_code == 404
    for odd in ({"month": "0001-01"}, {"month": "9999-12"}, {"date": "0001-01-01"}, {"date": "9999-12-31"},
                {"month": "x"}, {"tz": "Asia/" + "x" * 300}):
        assert client.get(url, odd).status_code == 200, odd
        assert client.get(reverse("bookings:day_slots", kwargs={"ws": workspace.slug, "offer": offer.slug}),
                          odd).status_code == 200, odd


def test_booking_form_to_checkout_to_payment_page(client, offer, workspace, gateway, now):
    url = reverse("bookings:details", kwargs={"ws": workspace.slug, "offer": offer.slug})
    form = client.get(url, {"start": THU_9.isoformat(), "tz": "Asia/Jakarta"})
    assert form.status_code == 200 and "WhatsApp" in form.content.decode()
    bad = client.post(url, {"start": THU_9.isoformat(), "name": "Budi", "email": "budi@example.test", "phone": "1"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    resp = client.post(url, {"start": THU_9.isoformat(), "tz": "Asia/Jakarta", "name": "Budi",
                             "email": "budi@example.test", "phone": "081234567890"})
    booking = Booking.objects.get()
    assert resp.status_code == 302 and resp["Location"] == manage_path(booking, "bookings:checkout")
    checkout = client.get(resp["Location"]).content.decode()
    for text in ("Rp 500.000", "Rp 100.000", "Rp 400.000"):
        assert text in checkout
    pay = client.post(manage_path(booking, "bookings:pay"))
    assert pay.status_code == 302 and pay["Location"] == booking.checkout_url
    for odd in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-12:00", "bukan-waktu", "2026-12-03T09:00:00"):
        assert client.get(url, {"start": odd}).status_code == 302, odd
    taken = client.post(url, {"start": THU_9.isoformat(), "name": "Siti", "email": "siti@example.test",
                              "phone": "081234567891"})
    assert taken.status_code == 302 and "date=2026-12-03" in taken["Location"]


def test_manage_page_confirmation_calendar_links_and_ics(client, hold, pay):
    booking = pay(hold(start=FRI_9))
    html = client.get(manage_path(booking)).content.decode()
    assert 'data-status="confirmed"' in html
    assert "calendar.google.com" in html and "outlook.live.com" in html
    ics = client.get(manage_path(booking, "bookings:ics"))
    assert ics["Content-Type"].startswith("text/calendar")
    [event] = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert event.decoded("dtstart") == FRI_9
    assert client.get("/b/not-a-valid-link/").status_code == 404


def test_client_cancels_through_the_signed_link(client, hold, pay):
    booking = pay(hold(start=FRI_9))
    resp = client.post(manage_path(booking, "bookings:cancel"), {"reason": "berhalangan"}, follow=True)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.deposit_refunded_amount == 100_000
    assert "data-refunded" in resp.content.decode()


def test_client_reschedules_through_the_signed_link(client, hold, pay):
    booking = pay(hold(start=FRI_9))
    page = client.get(manage_path(booking, "bookings:reschedule"), {"date": "2026-12-04"})
    assert page.status_code == 200
    new_start = FRI_9.replace(hour=13)
    assert new_start.isoformat() in page.content.decode()
    resp = client.post(manage_path(booking, "bookings:reschedule"), {"start": new_start.isoformat()})
    assert resp.status_code == 302
    booking.refresh_from_db()
    assert booking.start_at == new_start


def test_staff_list_detail_actions_and_figures(client, hold, pay, workspace, offer):
    booking = pay(hold())
    hold(start=FRI_9)  # a hold that will lapse unpaid
    owner = workspace.memberships.get(role="owner").user
    client.force_login(owner)
    base = f"/dashboard/{workspace.slug}/bookings/"
    assert booking.client.name in client.get(base).content.decode()
    assert booking.client.name in client.get(base, {"day": "2026-12-03"}).content.decode()
    detail = client.get(f"{base}{booking.pk}/")
    assert detail.status_code == 200
    clock.advance(THU_9 + dt.timedelta(minutes=30) - clock.now())
    client.post(f"{base}{booking.pk}/no-show/")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW
    figures = client.get(f"{base}figures/", {"start": "2026-12-01", "end": "2026-12-31"}).content.decode()
    assert "Rp 100.000" in figures  # the no-show's deposit was kept


def test_staff_member_sees_only_own_bookings(client, hold, pay, workspace, member_factory):
    booking = pay(hold())
    other = member_factory(workspace, role="staff")
    client.force_login(other.user)
    base = f"/dashboard/{workspace.slug}/bookings/"
    assert booking.client.name not in client.get(base).content.decode()
    assert client.get(f"{base}{booking.pk}/").status_code == 404
    assert client.post(f"{base}{booking.pk}/cancel/").status_code == 404


def test_offer_editor(client, workspace, staff):
    from jasa.catalog.models import ConsultationOffer

    owner = workspace.memberships.get(role="owner").user
    client.force_login(owner)
    url = f"/dashboard/{workspace.slug}/offers/new/"
    assert client.get(url).status_code == 200
    data = {
        "name_id": "Audit SEO", "duration_minutes": 45, "price_amount": 750000, "deposit_kind": "percent",
        "deposit_percent": 30, "deposit_fixed_amount": 0, "balance_due": "after", "balance_due_hours_before": 24,
        "location_kind": "video", "buffer_before_minutes": 0, "buffer_after_minutes": 15, "min_notice_minutes": 120,
        "horizon_days": 60, "slot_interval_minutes": 30, "hold_minutes": 15, "free_reschedule_hours": 24,
        "refund_until_hours": 24, "refund_percent": 100, "reminder_hours": "24, 2", "reminder_email": "on",
        "is_active": "on", "staff": [str(staff.pk)],
        "questions_text": "Apa tujuan Anda? | What is your goal? *\nSitus web Anda",
    }
    resp = client.post(url, data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    offer = ConsultationOffer.objects.get(name_id="Audit SEO")
    assert offer.slug == "audit-seo" and offer.reminders == [1440, 120] and offer.reminder_channels == ["email"]
    assert list(offer.staff.all()) == [staff]
    assert offer.questions == [
        {"key": "what-is-your-goal", "label_id": "Apa tujuan Anda?", "label_en": "What is your goal?", "required": True},
        {"key": "situs-web-anda", "label_id": "Situs web Anda", "label_en": "", "required": False},
    ]
    edit = client.post(f"/dashboard/{workspace.slug}/offers/{offer.pk}/", {**data, "price_amount": 800000})
    assert edit.status_code == 302
    offer.refresh_from_db()
    assert offer.price_amount == 800000
    assert "Audit SEO" in client.get(f"/dashboard/{workspace.slug}/offers/").content.decode()


def test_staff_ics_feed_lists_confirmed_bookings(client, hold, pay, staff):
    from jasa.calendars.services import feed_for

    confirmed = pay(hold(start=FRI_9))
    cancelled = pay(hold(start=THU_9))
    from jasa.bookings.services import booking_cancel

    booking_cancel(booking=cancelled, by="staff")
    feed = client.get(reverse("calendars:feed", args=[feed_for(staff).token]))
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [confirmed.start_at]


def test_client_portal_lists_bookings_in_the_clients_zone(client, hold, pay):
    booking = pay(hold(start=FRI_9, time_zone="Asia/Jayapura"))
    client.force_login(booking.client.user)
    html = client.get("/portal/").content.decode()
    assert manage_path(booking) in html
    assert "11:00" in html and "(Asia/Jayapura)" in html  # 09:00 WIB is 11:00 WIT
    manage = client.get(manage_path(booking)).content.decode()
    assert "11:00" in manage and "Asia/Jayapura" in manage
