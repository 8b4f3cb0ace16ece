import os

from django.conf import settings
from django.urls import path

from jasa.payments import (
    views,
    views_client,
    views_invoices,
    views_public,
    views_refund,
    views_setup,
    views_webhooks,
)

app_name = "payments"
urlpatterns: list = [
    path("webhooks/<slug:gateway>", views_public.webhook, name="webhook"),
    path("webhooks/<slug:gateway>/<uuid:account>", views_public.webhook, name="webhook_account"),
    path("receipts/<uuid:receipt_id>/", views_public.receipt_view, name="receipt"),
    path("receipts/<uuid:receipt_id>/pdf/", views_public.receipt_pdf_view, name="receipt_pdf"),
    path("invoices/<uuid:invoice_id>/", views_public.invoice_document_view, name="invoice_document"),
    path("invoices/<uuid:invoice_id>/pdf/", views_public.invoice_pdf_view, name="invoice_pdf"),
    # the client's pay page, status after the gateway, and receipts (views_client)
    path("pay/<uuid:invoice_id>/", views_client.pay, name="pay"),
    path("pay/<uuid:invoice_id>/return/", views_client.pay_return, name="pay_return"),
    path("pay/<uuid:invoice_id>/payments/<uuid:payment_id>/", views_client.pay_status, name="pay_status"),
    path("pay/<uuid:invoice_id>/payments/<uuid:payment_id>/poll/", views_client.pay_status_poll,
         name="pay_status_poll"),
    path("pay/<uuid:invoice_id>/payments/<uuid:payment_id>/qr.png", views_client.pay_qr, name="pay_qr"),
    # the client gives the bank account for a refund owed by bank transfer (views_refund)
    path("pay/<uuid:invoice_id>/refund/", views_refund.refund_account, name="refund_account"),
    path("portal/receipts/", views_client.portal_receipts, name="portal_receipts"),
    path("portal/methods/", views_client.portal_methods, name="portal_methods"),
    path("portal/methods/<uuid:method_id>/remove/", views_client.portal_method_remove, name="portal_method_remove"),
    # saving a card without a payment (views_setup)
    path("portal/methods/add/<uuid:client_id>/", views_setup.portal_method_add, name="portal_method_add"),
    path("portal/methods/setups/<uuid:setup_id>/", views_setup.portal_method_setup, name="portal_method_setup"),
    path("portal/methods/setups/<uuid:setup_id>/poll/", views_setup.portal_method_setup_poll,
         name="portal_method_setup_poll"),
    # staff screens (views)
    path("dashboard/<slug:ws>/payments/", views.payments_list, name="dashboard"),
    path("dashboard/<slug:ws>/payments/settings/", views.gateway_settings, name="settings"),
    path("dashboard/<slug:ws>/payments/settings/<uuid:account_id>/test/", views.gateway_test, name="gateway_test"),
    path("dashboard/<slug:ws>/payments/webhooks/", views_webhooks.webhooks_list, name="webhooks"),
    path("dashboard/<slug:ws>/payments/webhooks/<int:event_id>/retry/", views_webhooks.webhook_retry,
         name="webhook_retry"),
    path("dashboard/<slug:ws>/payments/<uuid:payment_id>/", views.payment_detail, name="detail"),
    path("dashboard/<slug:ws>/payments/<uuid:payment_id>/refund/", views.payment_refund, name="refund"),
    path("dashboard/<slug:ws>/payments/<uuid:payment_id>/refund-transfer/", views.payment_refund_transfer,
         name="refund_transfer"),
    path("dashboard/<slug:ws>/payments/<uuid:payment_id>/sync/", views.payment_sync, name="sync"),
    path("dashboard/<slug:ws>/reports/", views.reports, name="reports"),
    # staff invoice screens (views_invoices)
    path("dashboard/<slug:ws>/invoices/", views_invoices.invoices_list, name="invoices"),
    path("dashboard/<slug:ws>/invoices/new/", views_invoices.invoice_new, name="invoice_new"),
    path("dashboard/<slug:ws>/invoices/<uuid:invoice_id>/", views_invoices.invoice_detail, name="invoice_detail"),
    path("dashboard/<slug:ws>/invoices/<uuid:invoice_id>/edit/", views_invoices.invoice_edit, name="invoice_edit"),
    path("dashboard/<slug:ws>/invoices/<uuid:invoice_id>/issue/", views_invoices.invoice_issue, name="invoice_issue"),
    path("dashboard/<slug:ws>/invoices/<uuid:invoice_id>/send-link/", views_invoices.invoice_send_link,
         name="invoice_send_link"),
    path("dashboard/<slug:ws>/invoices/<uuid:invoice_id>/void/", views_invoices.invoice_void, name="invoice_void"),
    path("dashboard/<slug:ws>/invoices/<uuid:invoice_id>/uncollectible/", views_invoices.invoice_mark_uncollectible,
         name="invoice_uncollectible"),
]
if settings.DEBUG or os.environ.get("JASA_BENCH"):
    urlpatterns.append(path("bench/ping", views_public.bench_ping, name="bench_ping"))
