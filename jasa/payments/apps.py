from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "jasa.payments"
    label = "payments"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from jasa.core.views import INFO
        from jasa.payments import inbox, tasks  # noqa: F401  (tasks registers queue tasks)
        from jasa.payments.connect import forget_verifiers

        INFO["webhooks"] = inbox.describe  # /healthz: who queues the re-read of stored webhooks

        post_save.connect(forget_verifiers, sender="payments.GatewayAccount", dispatch_uid="payments-verifiers-save")
        post_delete.connect(forget_verifiers, sender="payments.GatewayAccount", dispatch_uid="payments-verifiers-del")
