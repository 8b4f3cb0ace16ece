from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "jasa.calendars"
    label = "calendars"
