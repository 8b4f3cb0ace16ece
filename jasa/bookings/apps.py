from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "jasa.bookings"
    label = "bookings"
    verbose_name = "bookings"

    def ready(self) -> None:
        from jasa.bookings import cache_receivers, jobs, receivers  # noqa: F401  (job handlers, signal receivers)
        from jasa.web.nav import portal_section

        portal_section("bookings/_portal.html", order=10)
