"""The staff calendar: day and week grids of bookings, holds, calendar busy times and time off.

Fixtures (tests/bookings/conftest.py): the staff member works weekdays 09:00–17:00 in Jakarta; the clock
is frozen on Wednesday 2 December 2026, 10:00 WIB; THU_9 is Thursday 3 December 09:00 WIB.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jasa.bookings.models import BookingStatus
from jasa.bookings.staff_calendar import working_range
from jasa.core import clock
from tests.bookings.conftest import FRI_9, JKT, THU_9


def calendar_url(workspace) -> str:
    return reverse("bookings:calendar", kwargs={"ws": workspace.slug})


def owner_of(workspace):
    return workspace.memberships.get(role="owner")


def set_zone(membership, zone: str) -> None:
    membership.profile.time_zone = zone
    membership.profile.save(update_fields=["time_zone"])


def column_of(resp, staff, date: str):
    return next(c for c in resp.context["columns"] if c.staff.pk == staff.pk and c.date.isoformat() == date)


def test_a_jakarta_session_sits_in_the_viewers_own_hour_row(client, workspace, staff, hold, pay):
    booking = pay(hold(start=THU_9))
    owner = owner_of(workspace)
    client.force_login(owner.user)

    resp = client.get(calendar_url(workspace), {"date": "2026-12-03", "view": "day"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Asia/Jakarta" in html  # the zone the times are shown in
    assert resp.context["rows"][0] == "09:00" and resp.context["rows"][-1] == "16:00"  # working hours 09–17
    block = column_of(resp, staff, "2026-12-03").bookings[0]
    assert block["booking"].pk == booking.pk and block["row"] == "09:00" and block["top"] == 0
    assert 'data-row="09:00" data-status="confirmed"' in html
    assert reverse("bookings:detail", kwargs={"ws": workspace.slug, "booking_id": booking.pk}) in html

    set_zone(owner, "Asia/Makassar")  # one hour ahead: the same session is at 10:00, the rows move with it
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03", "view": "day"})
    html = resp.content.decode()
    assert "Asia/Makassar" in html
    assert resp.context["rows"][0] == "10:00" and resp.context["rows"][-1] == "17:00"
    block = column_of(resp, staff, "2026-12-03").bookings[0]
    assert block["row"] == "10:00" and block["top"] == 0
    assert "10:00–11:00" in html


def test_blocks_are_placed_by_start_and_end(client, workspace, staff, hold, pay):
    booking = pay(hold(start=THU_9 + dt.timedelta(hours=4)))  # 13:00–14:00 in a 09–17 grid
    client.force_login(owner_of(workspace).user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03"})
    block = column_of(resp, staff, "2026-12-03").bookings[0]
    assert block["booking"].pk == booking.pk
    assert block["top"] == pytest.approx(50.0) and block["height"] == pytest.approx(12.5)
    assert 'style="top:50.0000%;height:12.5000%;min-height:12.5000%"' in resp.content.decode()


def test_holds_and_confirmed_bookings_look_different_and_say_so(client, workspace, staff, hold, pay):
    confirmed = pay(hold(start=THU_9))
    held = hold(start=FRI_9)
    client.force_login(owner_of(workspace).user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03", "view": "week", "staff": str(staff.pk)})
    html = resp.content.decode()
    thu = column_of(resp, staff, "2026-12-03").bookings
    fri = column_of(resp, staff, "2026-12-04").bookings
    assert [b["booking"].pk for b in thu] == [confirmed.pk] and not thu[0]["is_hold"]
    assert [b["booking"].pk for b in fri] == [held.pk] and fri[0]["is_hold"]
    assert 'class="cal-block cal-booking status-confirmed"' in html
    assert 'class="cal-block cal-hold status-awaiting_deposit"' in html
    # Not colour only: each block says its status in words.
    assert str(BookingStatus.CONFIRMED.label) in html and str(BookingStatus.AWAITING_DEPOSIT.label) in html
    assert held.client.name in html and confirmed.client.name in html

    clock.advance(held.hold_expires_at - clock.now() + dt.timedelta(minutes=1))  # the hold lapses unpaid
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03", "view": "week", "staff": str(staff.pk)})
    assert column_of(resp, staff, "2026-12-04").bookings == []
    assert held.client.name not in resp.content.decode()


def test_calendar_busy_times_are_grey_blocks_without_details(client, workspace, staff, hold, pay):
    from jasa.calendars.models import BusyInterval, CalendarConnection

    booking = pay(hold(start=THU_9))
    conn = CalendarConnection.objects.create(workspace=workspace, membership=staff, kind="ics", name="Pribadi")
    BusyInterval.objects.create(workspace=workspace, connection=conn, membership=staff, source_uid="dentist-secret",
                                start=THU_9 + dt.timedelta(hours=3), end=THU_9 + dt.timedelta(hours=4, minutes=30))
    # jasa's own event for the booking comes back from the calendar: not drawn a second time.
    BusyInterval.objects.create(workspace=workspace, connection=conn, membership=staff, source_uid="jasa-event",
                                start=booking.start_at, end=booking.end_at)
    client.force_login(owner_of(workspace).user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03"})
    html = resp.content.decode()
    busy = column_of(resp, staff, "2026-12-03").busy
    assert len(busy) == 1
    assert busy[0]["start"] == THU_9 + dt.timedelta(hours=3) and busy[0]["top"] == pytest.approx(37.5)
    assert html.count("data-busy") == 1 and "12:00–13:30" in html
    assert "dentist-secret" not in html and "Pribadi" not in html


def test_time_off_holidays_and_the_now_line(client, workspace, staff):
    from jasa.bookings.models_availability import DateOverride, PublicHoliday

    PublicHoliday.objects.create(workspace=workspace, date=dt.date(2026, 12, 4), name="Hari Libur Uji")
    DateOverride.objects.create(workspace=workspace, membership=staff, date=dt.date(2026, 12, 1), is_day_off=True,
                                note="Cuti")
    DateOverride.objects.create(workspace=workspace, membership=staff, date=dt.date(2026, 12, 3),
                                ranges=[["09:00", "12:00"]])
    clock.freeze(dt.datetime(2026, 12, 2, 10, 0, tzinfo=JKT))
    client.force_login(owner_of(workspace).user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-02", "view": "week", "staff": str(staff.pk)})
    html = resp.content.decode()
    full = [{"top": 0.0, "height": 100.0}]

    def off(date):
        return [{"top": round(o["top"], 4), "height": round(o["height"], 4)}
                for o in column_of(resp, staff, date).off]

    assert off("2026-12-02") == []  # a plain working day, 09–17 in a 09–17 grid
    assert off("2026-12-01") == full and column_of(resp, staff, "2026-12-01").day_off == "Cuti"
    assert off("2026-12-04") == full and column_of(resp, staff, "2026-12-04").day_off == "Hari Libur Uji"
    assert off("2026-12-03") == [{"top": 37.5, "height": 62.5}]  # works only 09–12 that day
    assert off("2026-12-05") == full and off("2026-12-06") == full  # the weekend
    assert "Hari Libur Uji" in html and "Cuti" in html
    now_cols = [c for c in resp.context["columns"] if c.now_style]
    assert [c.date.isoformat() for c in now_cols] == ["2026-12-02"]
    assert now_cols[0].now_style == "top:12.5000%"  # 10:00 in a 09–17 grid
    assert html.count('class="cal-now"') == 1


def test_rows_fall_back_to_eight_to_six_and_widen_for_sessions_outside(client, workspace, member_factory):
    lonely = member_factory(workspace, role="staff")  # no working hours at all
    client.force_login(lonely.user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03"})
    assert resp.context["rows"][0] == "08:00" and resp.context["rows"][-1] == "17:00"
    assert working_range([(dt.datetime(2026, 12, 3, 7, 30, tzinfo=JKT), dt.datetime(2026, 12, 3, 19, 15, tzinfo=JKT))],
                         [dt.date(2026, 12, 3)], JKT) == (7, 20)
    assert working_range([(dt.datetime(2026, 12, 3, 22, tzinfo=JKT), dt.datetime(2026, 12, 4, 0, tzinfo=JKT))],
                         [dt.date(2026, 12, 3)], JKT) == (22, 24)


@pytest.mark.parametrize("role", ["owner", "admin", "finance"])
def test_members_who_see_all_bookings_get_every_column(client, workspace, staff, member_factory, hold, pay, role):
    from tests.bookings.conftest import working_week

    booking = pay(hold(start=THU_9))
    colleague = member_factory(workspace, role="staff")
    working_week(workspace, colleague)
    viewer = owner_of(workspace) if role == "owner" else member_factory(workspace, role=role)
    client.force_login(viewer.user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03"})
    assert resp.status_code == 200
    assert {c.staff.pk for c in resp.context["columns"]} == {staff.pk, colleague.pk}
    assert booking.client.name in resp.content.decode()
    week = client.get(calendar_url(workspace), {"date": "2026-12-03", "view": "week", "staff": str(colleague.pk)})
    assert {c.staff.pk for c in week.context["columns"]} == {colleague.pk}
    assert 'id="calendar-staff"' in week.content.decode()  # they may pick whose week to see


def test_a_staff_member_sees_only_their_own_column(client, workspace, staff, member_factory, hold, pay):
    from tests.bookings.conftest import working_week

    booking = pay(hold(start=THU_9))
    other = member_factory(workspace, role="staff")
    working_week(workspace, other)
    client.force_login(other.user)
    for params in ({"date": "2026-12-03"}, {"date": "2026-12-03", "view": "week", "staff": str(staff.pk)}):
        resp = client.get(calendar_url(workspace), params)
        assert resp.status_code == 200
        assert {c.staff.pk for c in resp.context["columns"]} == {other.pk}
        html = resp.content.decode()
        assert booking.client.name not in html and str(booking.pk) not in html
        assert 'id="calendar-staff"' not in html
    client.force_login(staff.user)  # the booking's own staff member sees it
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03"})
    assert [c.staff.pk for c in resp.context["columns"]] == [staff.pk]
    assert booking.client.name in resp.content.decode()


def test_outsiders_are_kept_out(client, workspace, staff, workspace_factory, user_factory, hold, pay):
    pay(hold(start=THU_9))
    url = calendar_url(workspace)
    resp = client.get(url, {"date": "2026-12-03"})
    assert resp.status_code == 302 and resp["Location"].startswith(reverse("account_login"))
    client.force_login(user_factory())  # a user who is no member of this workspace
    assert client.get(url).status_code == 404
    outsider_ws = workspace_factory()
    client.force_login(owner_of(outsider_ws).user)  # owner elsewhere
    assert client.get(url).status_code == 404


def test_another_workspaces_staff_and_bookings_never_show(client, workspace, staff, workspace_factory, member_factory,
                                                          hold, pay, offer_factory):
    from tests.bookings.conftest import working_week

    mine = pay(hold(start=THU_9))
    other_ws = workspace_factory()
    foreign = member_factory(other_ws, role="staff")
    working_week(other_ws, foreign)
    foreign_offer = offer_factory(workspace=other_ws, staff=[foreign])
    theirs = hold(start=THU_9, offer=foreign_offer, client_name="Klien Asing")  # a live hold: drawn in its own workspace
    client.force_login(owner_of(workspace).user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03"})
    html = resp.content.decode()
    assert {c.staff.pk for c in resp.context["columns"]} == {staff.pk}
    assert mine.client.name in html and "Klien Asing" not in html and str(theirs.pk) not in html
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03", "view": "week", "staff": str(foreign.pk)})
    assert {c.staff.pk for c in resp.context["columns"]} == {staff.pk}  # a foreign id falls back
    assert "Klien Asing" not in resp.content.decode()


def test_week_navigation_across_a_month_boundary_in_a_zone_without_dst(client, workspace, staff, frozen_clock):
    client.force_login(owner_of(workspace).user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-31", "view": "week", "staff": str(staff.pk)})
    days = [c.date.isoformat() for c in resp.context["columns"]]
    assert days == ["2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02", "2027-01-03"]
    html = resp.content.decode()
    assert "28 Des" in html or "28 Dec" in html
    assert resp.context["next_url"] == f"?view=week&date=2027-01-07&staff={staff.pk}"
    assert resp.context["prev_url"] == f"?view=week&date=2026-12-24&staff={staff.pk}"
    nxt = client.get(calendar_url(workspace) + resp.context["next_url"])
    assert [c.date.isoformat() for c in nxt.context["columns"]][0] == "2027-01-04"
    # Every column is the same 8 hours of real time: Jakarta keeps no daylight saving.
    assert {(c.end - c.start) for c in nxt.context["columns"]} == {dt.timedelta(hours=8)}
    assert all(c.start.utcoffset() == dt.timedelta(hours=7) for c in nxt.context["columns"])
    today = client.get(calendar_url(workspace) + resp.context["today_url"])
    assert today.context["date"] == dt.date(2026, 12, 2)
    day = client.get(calendar_url(workspace), {"date": "2026-11-30"})
    assert day.context["prev_url"].startswith("?view=day&date=2026-11-29")
    assert day.context["next_url"].startswith("?view=day&date=2026-12-01")
    for odd in ("not-a-date", "9999-12-31", "0001-01-01"):
        resp = client.get(calendar_url(workspace), {"date": odd, "view": "sideways", "staff": "not-an-id"})
        assert resp.status_code == 200 and resp.context["date"] == dt.date(2026, 12, 2), odd


def test_list_and_calendar_link_to_each_other(client, workspace, staff):
    client.force_login(owner_of(workspace).user)
    base = reverse("bookings:dashboard", kwargs={"ws": workspace.slug})
    assert calendar_url(workspace) in client.get(base).content.decode()
    assert base in client.get(calendar_url(workspace)).content.decode()


def test_the_page_speaks_indonesian_and_english(client, workspace, staff, hold):
    hold(start=THU_9)
    client.force_login(owner_of(workspace).user)
    params = {"date": "2026-12-03", "view": "week", "staff": str(staff.pk)}
    html = client.get(calendar_url(workspace), params, headers={"Accept-Language": "id"}).content.decode()
    for text in ("Kalender", "Waktu dalam Asia/Jakarta", "Pekan sebelumnya", "Pekan berikutnya",
                 "Slot ditahan, menunggu uang muka", "Tidak bekerja"):
        assert text in html, text
    html = client.get(calendar_url(workspace), params, headers={"Accept-Language": "en"}).content.decode()
    for text in ("Calendar", "Times in Asia/Jakarta", "Previous week", "Held, awaiting deposit", "Awaiting deposit"):
        assert text in html, text


def test_htmx_navigation_gets_the_swappable_part(client, workspace, staff):
    client.force_login(owner_of(workspace).user)
    resp = client.get(calendar_url(workspace), {"date": "2026-12-03"}, headers={"HX-Request": "true"})
    html = resp.content.decode()
    assert resp.status_code == 200 and 'id="calendar-wrap"' in html
    assert 'hx-get="?view=day&amp;date=2026-12-04' in html and 'href="?view=day&amp;date=2026-12-04' in html
