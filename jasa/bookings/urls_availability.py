"""URLs of the staff availability editor, included under /dashboard/<ws>/availability/ by bookings.urls."""

from django.urls import path

from jasa.bookings import views_availability as views

urlpatterns = [
    path("", views.editor, name="availability"),
    path("hours/", views.hours_add, name="availability_hours_add"),
    path("hours/<uuid:item_id>/delete/", views.hours_delete, name="availability_hours_delete"),
    path("dates/", views.override_set, name="availability_override_set"),
    path("dates/<uuid:item_id>/delete/", views.override_delete, name="availability_override_delete"),
    path("holidays/", views.holiday_add, name="availability_holiday_add"),
    path("holidays/<uuid:item_id>/delete/", views.holiday_delete, name="availability_holiday_delete"),
]
