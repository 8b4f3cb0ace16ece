"""The bookings API, exactly as issue 4 part 4 specifies it."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from jasa.bookings.models import Booking, BookingStatus
from tests.bookings.conftest import FRI_9, THU_9

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    def call(method, path, body=None, headers=None, **params):
        kwargs = {"content_type": "application/json"} if body is not None else {}
        if body is not None:
            kwargs["data"] = json.dumps(body) if not isinstance(body, str | bytes) else body
        if method == "get":
            kwargs["data"] = params
        resp = getattr(client, method)(f"/api/v1{path}", **kwargs, headers=headers or {})
        assert resp.status_code < 500, resp.content
        return resp

    return call


def _body(offer_obj, start=THU_9, **extra):
    return {"offer": str(offer_obj.pk), "start": start.isoformat(),
            "client": {"name": "Budi", "email": "budi@example.test", "phone": "081234567890"}, "answers": {},
            **extra}


def test_offers_list(api, offer, workspace):
    resp = api("get", f"/workspaces/{workspace.slug}/offers")
    assert resp.status_code == 200
    [item] = resp.json()
    assert item["id"] == str(offer.pk) and item["duration_minutes"] == 60
    assert item["price"] == {"amount": 500_000, "currency": "IDR"}
    assert item["deposit"] == {"amount": 100_000, "currency": "IDR"}
    assert isinstance(item["name"], str)
    assert api("get", "/workspaces/nope/offers").status_code == 404


def test_slots_in_the_asked_zone(api, offer, staff, now):
    resp = api("get", f"/offers/{offer.pk}/slots", start="2026-12-03", end="2026-12-04", tz="Asia/Makassar")
    assert resp.status_code == 200
    data = resp.json()
    assert data["tz"] == "Asia/Makassar"
    first = data["slots"][0]
    assert first == {"start": "2026-12-03T10:00:00+08:00", "end": "2026-12-03T11:00:00+08:00", "staff": str(staff.pk)}
    assert len(data["slots"]) == 16  # 09:00–17:00 WIB hourly, two days
    starts = [dt.datetime.fromisoformat(s["start"]) for s in data["slots"]]
    assert starts == sorted(starts)


@pytest.mark.parametrize("query", [
    {"start": "2026-12-03", "end": "2026-12-01"},
    {"start": "2026-12-03", "end": "2026-12-04", "tz": "Asia/" + "x" * 400},
    {"start": "2026-12-03", "end": "2026-12-04", "tz": "Mars/Olympus"},
    {"start": "kemarin", "end": "2026-12-04"},
    {"start": "2026-12-01", "end": "2027-06-01"},
])
def test_slots_bad_input_is_422(api, offer, query):
    assert api("get", f"/offers/{offer.pk}/slots", **query).status_code == 422


@pytest.mark.parametrize("start, end", [("0001-01-01", "0001-01-03"), ("9999-12-25", "9999-12-31"),
                                        ("2020-01-01", "2020-01-05")])
def test_slots_far_from_now_are_empty_not_errors(api, offer, now, start, end):
    resp = api("get", f"/offers/{offer.pk}/slots", start=start, end=end, tz="Asia/Jakarta")
    assert resp.status_code == 200 and resp.json()["slots"] == []


@pytest.mark.parametrize("start", ["0001-01-01T09:00:00+07:00", "9999-12-31T09:00:00+07:00",
                                   "0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-12:00",
                                   "2020-01-01T09:00:00+07:00"])
def test_booking_far_from_now_is_409(api, offer, gateway, now, start):
    assert api("post", "/bookings", {**_body(offer), "start": start}).status_code == 409


def test_slots_unknown_offer(api, offer):
    assert api("get", f"/offers/{uuid.uuid4()}/slots", start="2026-12-03", end="2026-12-03").status_code == 404
    assert api("get", "/offers/not-a-uuid/slots", start="2026-12-03", end="2026-12-03").status_code == 422


def test_create_booking_contract(api, offer, gateway, now):
    resp = api("post", "/bookings", _body(offer))
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["status"] == "awaiting_deposit"
    assert dt.datetime.fromisoformat(data["start"]) == THU_9
    assert dt.datetime.fromisoformat(data["end"]) == THU_9 + dt.timedelta(hours=1)
    assert dt.datetime.fromisoformat(data["hold_expires_at"]) == now + dt.timedelta(minutes=15)
    assert data["payment"]["amount"] == {"amount": 100_000, "currency": "IDR"}
    assert data["payment"]["checkout_url"].startswith("https://")
    booking = Booking.objects.get(pk=data["id"])
    assert booking.client.phone == "+6281234567890"
    got = api("get", f"/bookings/{data['id']}").json()
    assert got["id"] == data["id"] and got["status"] == "awaiting_deposit"
    assert got["payment"] == data["payment"]


def test_slot_taken_is_409(api, offer, gateway, now):
    assert api("post", "/bookings", _body(offer)).status_code == 201
    other = _body(offer)
    other["client"]["email"] = "siti@example.test"
    resp = api("post", "/bookings", other)
    assert resp.status_code == 409
    assert resp.json()["code"] == "slot_taken"


@pytest.mark.parametrize("change, field", [
    ({"client": {"name": "Budi", "email": "budi@example.test", "phone": "12345"}}, "client.phone"),
    ({"client": {"name": "Budi", "email": "bukan-email", "phone": "081234567890"}}, "client.email"),
    ({"client": {"name": "", "email": "budi@example.test", "phone": "081234567890"}}, "client.name"),
    ({"start": "2026-12-03T09:00:00"}, "start"),
    ({"start": "besok pagi"}, "start"),
    ({"offer": "abc"}, "offer"),
    ({"answers": "text"}, "answers"),
])
def test_bad_input_is_422_with_field_errors(api, offer, gateway, now, change, field):
    resp = api("post", "/bookings", {**_body(offer), **change})
    assert resp.status_code == 422, resp.content
    fields = [e["field"] for e in resp.json()["errors"]]
    assert any(f.startswith(field) for f in fields), fields


@pytest.mark.parametrize("raw", ["", "{", "[]", "null", '{"offer": 1}', "x" * 5000])
def test_garbage_is_never_a_server_error(api, offer, raw):
    resp = api("post", "/bookings", raw)
    assert 400 <= resp.status_code < 500


def test_unknown_offer_is_404_and_missing_staff_is_422(api, offer, gateway, now):
    assert api("post", "/bookings", _body(offer, offer=str(uuid.uuid4()))).status_code == 404
    assert api("post", "/bookings", _body(offer, staff=str(uuid.uuid4()))).status_code == 422


def test_idempotency_key_same_body_same_booking(api, offer, gateway, now):
    headers = {"Idempotency-Key": "book-1"}
    first = api("post", "/bookings", _body(offer), headers=headers)
    again = api("post", "/bookings", _body(offer), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Booking.objects.count() == 1
    different = api("post", "/bookings", _body(offer, start=FRI_9), headers=headers)
    assert different.status_code == 422


def test_cancel_and_reschedule_need_the_manage_token(api, offer, gateway, pay, now):
    created = api("post", "/bookings", _body(offer, start=FRI_9)).json()
    booking = pay(Booking.objects.get(pk=created["id"]))
    assert booking.status == BookingStatus.CONFIRMED
    path = f"/bookings/{booking.pk}"
    assert api("post", f"{path}/reschedule", {"start": FRI_9.replace(hour=11).isoformat()}).status_code == 403
    assert api("post", f"{path}/cancel", {}).status_code == 403
    assert api("post", f"{path}/cancel", {}, headers={"X-Booking-Token": "wrong"}).status_code == 403
    moved = api("post", f"{path}/reschedule?token={created['manage_token']}",
                {"start": FRI_9.replace(hour=11).isoformat()})
    assert moved.status_code == 200 and dt.datetime.fromisoformat(moved.json()["start"]) == FRI_9.replace(hour=11)
    taken = api("post", f"{path}/reschedule", {"start": "2026-12-04T20:00:00+07:00"},
                headers={"X-Booking-Token": created["manage_token"]})
    assert taken.status_code == 409
    cancelled = api("post", f"{path}/cancel", {}, headers={"X-Booking-Token": created["manage_token"]})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["deposit_refunded"] == {"amount": 100_000, "currency": "IDR"}


def test_staff_session_may_cancel(api, client, offer, gateway, pay, workspace, now):
    created = api("post", "/bookings", _body(offer, start=FRI_9)).json()
    pay(Booking.objects.get(pk=created["id"]))
    owner = workspace.memberships.get(role="owner").user
    client.force_login(owner)
    resp = api("post", f"/bookings/{created['id']}/cancel", {"reason": "konsultan sakit"})
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"


def test_openapi_lists_the_routes(api):
    paths = api("get", "/openapi.json").json()["paths"]
    for path in ("/api/v1/workspaces/{slug}/offers", "/api/v1/offers/{offer_id}/slots", "/api/v1/bookings",
                 "/api/v1/bookings/{booking_id}", "/api/v1/bookings/{booking_id}/cancel",
                 "/api/v1/bookings/{booking_id}/reschedule"):
        assert path in paths


def test_staff_of_another_workspace_cannot_touch_a_booking(api, client, offer, gateway, pay, workspace_factory, now):
    created = api("post", "/bookings", _body(offer, start=FRI_9)).json()
    pay(Booking.objects.get(pk=created["id"]))
    outsider = workspace_factory(slug="lain").memberships.get(role="owner").user
    client.force_login(outsider)
    assert api("post", f"/bookings/{created['id']}/cancel", {}).status_code == 403
    assert Booking.objects.get(pk=created["id"]).status == BookingStatus.CONFIRMED
