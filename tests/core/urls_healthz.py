"""Only /healthz: the health tests do not depend on every app's URLs importing."""

from django.urls import path

from jasa.core.views import healthz

urlpatterns = [path("healthz", healthz)]
