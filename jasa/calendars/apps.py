from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "jasa.calendars"
    label = "calendars"
    verbose_name = _("Calendars")

    def ready(self) -> None:
        from jasa.calendars import jobs  # noqa: F401 - registers the sync job handler
