from django.urls import path

from jasa.notifications import views

app_name = "notifications"
urlpatterns = [
    path("dashboard/<slug:ws>/outbox/", views.outbox, name="outbox"),
    path("dashboard/<slug:ws>/outbox/test/", views.outbox_test, name="outbox_test"),
    path("dashboard/<slug:ws>/outbox/<uuid:message_id>/retry/", views.outbox_retry, name="outbox_retry"),
]
