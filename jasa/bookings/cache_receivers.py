"""Every change that can alter free slots gives its workspace a new availability version (see cache.py).

Saves and deletes go through signals here, in one place. Bulk writes bypass signals, so code that
writes availability in bulk calls ``availability_changed`` itself (the calendar sync replacing busy rows).
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from jasa.accounts.models import Membership, StaffProfile, Workspace
from jasa.bookings.cache import availability_changed
from jasa.bookings.models import Booking
from jasa.bookings.models_availability import DateOverride, PublicHoliday, WorkingHours
from jasa.calendars.models import CalendarConnection
from jasa.catalog.models import ConsultationOffer

# Bookings and holds (hold, confirm, cancel, expire, reschedule are all saves), the weekly hours,
# overrides and holidays, offers (rules), staff zones and active flags, calendar connections
# (turned off or removed: their busy rows stop counting).
_WORKSPACE_OWNED = (Booking, WorkingHours, DateOverride, PublicHoliday, ConsultationOffer, StaffProfile, Membership,
                    CalendarConnection)


def _changed(sender, instance, **kwargs) -> None:
    availability_changed(instance.workspace_id)


def _workspace_changed(sender, instance, **kwargs) -> None:  # its zone is the staff's default zone
    availability_changed(instance.pk)


def _offer_staff_changed(sender, instance, action, **kwargs) -> None:
    if action.startswith("post_"):
        # From either side: an offer's staff set, or a membership's offers.
        availability_changed(instance.workspace_id)


for _model in _WORKSPACE_OWNED:
    post_save.connect(_changed, sender=_model, dispatch_uid=f"bookings.cache.save.{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"bookings.cache.delete.{_model.__name__}")
post_save.connect(_workspace_changed, sender=Workspace, dispatch_uid="bookings.cache.save.Workspace")
m2m_changed.connect(_offer_staff_changed, sender=ConsultationOffer.staff.through,
                    dispatch_uid="bookings.cache.offer_staff")
