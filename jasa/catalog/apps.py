from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "jasa.catalog"
    label = "catalog"
