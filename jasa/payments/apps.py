from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "jasa.payments"
    label = "payments"

    def ready(self) -> None:
        from jasa.payments import tasks  # noqa: F401  (registers queue tasks)
