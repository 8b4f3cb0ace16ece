from django.urls import include, path

from jasa.calendars import views

app_name = "calendars"

staff = [
    path("", views.connections, name="connections"),
    path("ics/", views.add_ics, name="add_ics"),
    path("caldav/", views.add_caldav, name="add_caldav"),
    path("google/", views.google_start, name="google_start"),
    path("feed/rotate/", views.feed_rotate, name="feed_rotate"),
    path("<uuid:connection_id>/", views.edit, name="edit"),
    path("<uuid:connection_id>/sync/", views.sync_now, name="sync"),
    path("<uuid:connection_id>/remove/", views.remove, name="remove"),
]

urlpatterns = [
    path("dashboard/<slug:ws>/calendars/", include(staff)),
    # One fixed address registered with Google; the signed state names the staff member.
    path("calendars/google/callback/", views.google_callback, name="google_callback"),
    path("ical/<str:token>.ics", views.feed, name="feed"),
]
