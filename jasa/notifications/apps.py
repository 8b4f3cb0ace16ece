from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "jasa.notifications"
    label = "notifications"
