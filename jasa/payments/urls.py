import os

from django.conf import settings
from django.urls import path

from jasa.payments import views_public

app_name = "payments"
urlpatterns: list = [
    path("webhooks/<slug:gateway>", views_public.webhook, name="webhook"),
    path("receipts/<uuid:receipt_id>/", views_public.receipt_view, name="receipt"),
    path("receipts/<uuid:receipt_id>/pdf/", views_public.receipt_pdf_view, name="receipt_pdf"),
]
if settings.DEBUG or os.environ.get("JASA_BENCH"):
    urlpatterns.append(path("bench/ping", views_public.bench_ping, name="bench_ping"))
