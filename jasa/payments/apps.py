from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "jasa.payments"
    label = "payments"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from jasa.core.views import INFO
        from jasa.payments import inbox, services_refund_notice, tasks  # noqa: F401  (queue tasks, receivers)
        from jasa.payments.connect import forget_verifiers
        from jasa.payments.selectors import ledger_health
        from jasa.web.nav import portal_section

        INFO["webhooks"] = inbox.describe  # /healthz: who queues the re-read of stored webhooks
        # /healthz: the last daily ledger check. Informs, never fails (not in CHECKS): /healthz decides whether
        # a load balancer or orchestrator keeps this instance in service, and books that disagree are a person's
        # job, not an outage; taking the instance out would stop payments and webhooks, and a restart fixes no row.
        INFO["ledger"] = ledger_health

        # the client's refunds owed by bank transfer, with the link to give the account (views_refund)
        portal_section("payments/client/_portal_refunds.html", order=29)
        post_save.connect(forget_verifiers, sender="payments.GatewayAccount", dispatch_uid="payments-verifiers-save")
        post_delete.connect(forget_verifiers, sender="payments.GatewayAccount", dispatch_uid="payments-verifiers-del")
