from django.urls import include, path

app_name = "bookings"
urlpatterns: list = [
    path("dashboard/<slug:ws>/availability/", include("jasa.bookings.urls_availability")),
]
