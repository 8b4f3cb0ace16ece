from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "jasa.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from jasa.notifications import tasks  # noqa: F401 - registers the queue tasks
