"""The project's URLs plus the outbox pages (also when jasa/urls.py does not include them yet)."""

from django.urls import include, path

from jasa.urls import urlpatterns as project

urlpatterns = [path("", include("jasa.notifications.urls"))] + [
    p for p in project if getattr(p, "urlconf_name", None) != "jasa.notifications.urls"
]
