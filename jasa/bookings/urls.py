from django.urls import include, path

from jasa.bookings import staff_calendar, staff_views, views

app_name = "bookings"

public = [
    path("<slug:ws>/book/<slug:offer>/", views.offer_page, name="offer"),
    path("<slug:ws>/book/<slug:offer>/day/", views.day_slots, name="day_slots"),
    path("<slug:ws>/book/<slug:offer>/details/", views.book_details, name="details"),
]
signed = [
    path("", views.manage, name="manage"),
    path("checkout/", views.checkout, name="checkout"),
    path("pay/", views.pay, name="pay"),
    path("booking.ics", views.ics_download, name="ics"),
    path("cancel/", views.cancel, name="cancel"),
    path("refund-account/", views.refund_account, name="refund_account"),
    path("reschedule/", views.reschedule, name="reschedule"),
]
staff = [
    path("", staff_views.bookings_list, name="dashboard"),
    path("figures/", staff_views.figures, name="figures"),
    path("calendar/", staff_calendar.calendar, name="calendar"),
    path("<uuid:booking_id>/", staff_views.booking_detail, name="detail"),
    path("<uuid:booking_id>/<str:action>/", staff_views.booking_action, name="action"),
]

urlpatterns = [
    *public,
    path("b/<str:signed>/", include(signed)),
    path("dashboard/<slug:ws>/bookings/", include(staff)),
    path("dashboard/<slug:ws>/availability/", include("jasa.bookings.urls_availability")),
]
