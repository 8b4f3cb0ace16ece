from django.urls import path

from jasa.catalog import views

app_name = "catalog"
urlpatterns = [
    path("dashboard/<slug:ws>/offers/", views.offers_list, name="dashboard"),
    path("dashboard/<slug:ws>/offers/new/", views.offer_edit, name="offer_new"),
    path("dashboard/<slug:ws>/offers/<uuid:offer_id>/", views.offer_edit, name="offer_edit"),
]
