from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "jasa.api"
    label = "api"
