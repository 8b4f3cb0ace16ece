import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from jasa.core import clock


@pytest.mark.django_db
def test_time_travel_moves_the_shared_clock_and_resets(settings, capsys):
    settings.JASA_TIME_TRAVEL = True
    before = clock.now()
    try:
        call_command("time_travel", days=3)
        assert clock.now() - before >= dt.timedelta(days=3)
        call_command("time_travel", hours=2)
        assert clock.now() - before >= dt.timedelta(days=3, hours=2)
        assert "ahead" in capsys.readouterr().out
    finally:
        call_command("time_travel", reset=True)
    assert clock.now() - before < dt.timedelta(hours=1)


@pytest.mark.django_db
def test_time_travel_is_refused_without_the_sandbox_setting(settings):
    settings.JASA_TIME_TRAVEL = False
    with pytest.raises(CommandError, match="JASA_TIME_TRAVEL=1"):
        call_command("time_travel", days=1)


@pytest.mark.django_db
def test_time_never_moves_backwards(settings):
    settings.JASA_TIME_TRAVEL = True
    with pytest.raises(CommandError, match="forward"):
        call_command("time_travel", days=-1)
