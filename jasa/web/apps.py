from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jasa.web"
    label = "web"
