from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "jasa.bookings"
    label = "bookings"
