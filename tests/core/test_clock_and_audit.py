import datetime as dt

import pytest

from jasa.core import audit, clock
from jasa.core.models import AuditEntry


def test_clock_is_aware_utc_and_moves_when_frozen():
    at = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    with clock.frozen(at):
        assert clock.now() == at
        assert clock.now().tzinfo is not None
        clock.advance(dt.timedelta(hours=25))
        assert clock.now() == at + dt.timedelta(hours=25)
    assert clock.now() != at + dt.timedelta(hours=25)


def test_clock_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        clock.freeze(dt.datetime(2026, 1, 1))


def test_today_is_computed_in_the_given_zone():
    from zoneinfo import ZoneInfo

    # 18:30 UTC on 1 Dec is already 2 Dec in Jakarta (UTC+7)
    with clock.frozen(dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)):
        assert clock.today(ZoneInfo("Asia/Jakarta")) == dt.date(2026, 12, 2)
        assert clock.today(ZoneInfo("UTC")) == dt.date(2026, 12, 1)


def test_time_travel_is_refused_unless_enabled(settings):
    settings.JASA_TIME_TRAVEL = False
    with pytest.raises(RuntimeError):
        clock.set_shared_offset(dt.timedelta(days=1))


@pytest.mark.django_db
def test_time_travel_moves_every_reader_when_enabled(settings):
    settings.JASA_TIME_TRAVEL = True
    before = clock.now()
    clock.set_shared_offset(dt.timedelta(days=30))
    try:
        assert clock.now() - before >= dt.timedelta(days=30)
    finally:
        clock.set_shared_offset(dt.timedelta(0))


@pytest.mark.django_db
def test_audit_records_actor_object_and_change(workspace, user_factory):
    user = user_factory(email="ayu@example.test")
    token = audit.set_actor(audit.Actor(user=user, ip="10.0.0.1"))
    try:
        entry = audit.record(workspace, "workspace.renamed", before={"name": "A"}, after={"name": "B"})
    finally:
        audit.reset_actor(token)
    assert entry.workspace == workspace
    assert entry.actor == user and entry.actor_label == "ayu@example.test"
    assert entry.ip == "10.0.0.1"
    assert (entry.before, entry.after) == ({"name": "A"}, {"name": "B"})
    assert list(audit.for_object(workspace).filter(action="workspace.renamed")) == [entry]


@pytest.mark.django_db
def test_audit_log_is_append_only(workspace):
    entry = audit.record(workspace, "workspace.touched")
    entry.action = "tampered"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "workspace.touched"


@pytest.mark.django_db
def test_system_changes_are_attributed_to_system(workspace):
    entry = audit.record(workspace, "workspace.swept")
    assert entry.actor is None and entry.actor_label == "system"
