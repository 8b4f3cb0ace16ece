"""The availability editor: own hours, another staff member's (admins only), overrides, holidays."""

import datetime as dt

import pytest
from django.urls import reverse

from jasa.bookings.models_availability import DateOverride, PublicHoliday, WorkingHours
from jasa.bookings.services_availability import parse_range_text
from jasa.core.errors import ValidationError
from jasa.core.models import AuditEntry


@pytest.fixture
def staff(workspace, member_factory):
    return member_factory(workspace)


def url(ws, name="availability", *args):
    return reverse(f"bookings:{name}", args=[ws.slug, *args])


def test_staff_edits_own_weekly_hours(client, workspace, staff, frozen_clock):
    client.force_login(staff.user)
    page = client.get(url(workspace), HTTP_ACCEPT_LANGUAGE="id")
    assert page.status_code == 200 and "Asia/Jakarta" in page.content.decode()
    assert "Jam kerja mingguan" in page.content.decode()  # Bahasa Indonesia
    r = client.post(url(workspace, "availability_hours_add"), {"weekday": 0, "start_time": "09:00", "end_time": "12:00"})
    assert r.status_code == 302
    client.post(url(workspace, "availability_hours_add"), {"weekday": 0, "start_time": "13:00", "end_time": "17:00"})
    assert list(WorkingHours.objects.filter(membership=staff).values_list("start_time", flat=True)) == [
        dt.time(9), dt.time(13)]
    overlap = client.post(url(workspace, "availability_hours_add"),
                          {"weekday": 0, "start_time": "11:00", "end_time": "14:00"})
    assert overlap.status_code == 422
    inverted = client.post(url(workspace, "availability_hours_add"),
                           {"weekday": 1, "start_time": "12:00", "end_time": "09:00"})
    assert inverted.status_code == 422
    wh = WorkingHours.objects.filter(membership=staff).first()
    client.post(url(workspace, "availability_hours_delete", wh.pk))
    assert WorkingHours.objects.filter(membership=staff).count() == 1
    assert AuditEntry.objects.filter(action="availability.hours_added").count() == 2
    assert AuditEntry.objects.filter(action="availability.hours_removed").count() == 1


def test_overrides_and_holidays(client, workspace, staff, frozen_clock):
    client.force_login(staff.user)
    r = client.post(url(workspace, "availability_override_set"),
                    {"date": "2026-12-24", "ranges": "09:00-11:00, 13:00-14:00", "note": "Half day"})
    assert r.status_code == 302
    ov = DateOverride.objects.get(membership=staff)
    assert ov.ranges == [["09:00", "11:00"], ["13:00", "14:00"]] and not ov.is_day_off
    client.post(url(workspace, "availability_override_set"), {"date": "2026-12-24", "is_day_off": "on"})
    ov.refresh_from_db()
    assert ov.is_day_off and ov.ranges == []
    bad = client.post(url(workspace, "availability_override_set"), {"date": "2026-12-26", "ranges": "nine to five"})
    assert bad.status_code == 422
    # staff may not set the workspace's holidays
    assert client.post(url(workspace, "availability_holiday_add"), {"date": "2026-12-25", "name": "Natal"}
                       ).status_code == 403
    owner = workspace.memberships.get(role="owner")
    client.force_login(owner.user)
    client.post(url(workspace, "availability_holiday_add"), {"date": "2026-12-25", "name": "Natal"})
    assert PublicHoliday.objects.get(workspace=workspace).name == "Natal"
    dup = client.post(url(workspace, "availability_holiday_add"), {"date": "2026-12-25", "name": "Again"})
    assert dup.status_code == 422
    assert "Natal" in client.get(url(workspace)).content.decode()


def test_admin_edits_another_staff_member_but_staff_cannot(client, workspace, staff, member_factory, frozen_clock):
    other = member_factory(workspace)
    client.force_login(staff.user)
    assert client.get(url(workspace) + f"?staff={other.pk}").status_code == 404
    r = client.post(url(workspace, "availability_hours_add"),
                    {"staff": other.pk, "weekday": 2, "start_time": "09:00", "end_time": "10:00"})
    assert r.status_code == 404 and not WorkingHours.objects.filter(membership=other).exists()
    owner = workspace.memberships.get(role="owner")
    client.force_login(owner.user)
    assert client.get(url(workspace) + f"?staff={other.pk}").status_code == 200
    r = client.post(url(workspace, "availability_hours_add"),
                    {"staff": other.pk, "weekday": 2, "start_time": "09:00", "end_time": "10:00"})
    assert r.status_code == 302 and r["Location"].endswith(f"?staff={other.pk}")
    assert WorkingHours.objects.filter(membership=other).count() == 1


def test_other_workspace_rows_are_out_of_reach(client, workspace_factory, member_factory, staff, frozen_clock):
    elsewhere = workspace_factory()
    stranger = member_factory(elsewhere)
    wh = WorkingHours.objects.create(workspace=elsewhere, membership=stranger, weekday=0, start_time=dt.time(9),
                                     end_time=dt.time(10))
    client.force_login(staff.user)
    client.post(url(staff.workspace, "availability_hours_delete", wh.pk))
    assert WorkingHours.objects.filter(pk=wh.pk).exists()
    assert client.get(url(elsewhere)).status_code == 404


def test_parse_range_text():
    assert parse_range_text("09:00-12:00, 13:00–17:30") == [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(17, 30))]
    assert parse_range_text("20:00-00:00") == [(dt.time(20), dt.time(0))]
    for bad in ("9-5", "10:00-09:00", "09:00-12:00, 11:00-13:00"):
        with pytest.raises(ValidationError):
            parse_range_text(bad)
