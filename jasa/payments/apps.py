from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "jasa.payments"
    label = "payments"
