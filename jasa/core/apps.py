from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "jasa.core"
    label = "core"
    verbose_name = "jasa core"
