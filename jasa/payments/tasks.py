"""Queue tasks of the payment core: thin wrappers that load ids and call services."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jasa.payments import services, services_setup


@db_task(retries=5, retry_delay=30)
def webhook_process_task(event_pk: int) -> str:
    return services.webhook_process(event_pk).state


@db_task(retries=5, retry_delay=30)
def webhook_process_batch_task(event_pks: list[int]) -> list[str]:
    """The webhook pump's unit of work: a few stored events per task (one queue push for all)."""
    return services.webhook_process_many(event_pks)


@db_task(retries=3, retry_delay=60)
def invoice_cancel_pending_task(invoice_id: str, keep_payment_id: str) -> int:
    return services.invoice_cancel_pending_payments(invoice_id, keep=keep_payment_id)


@db_task(retries=5, retry_delay=120)
def overpayment_refund_task(payment_id: str) -> str:
    refund = services.payment_refund_overpayment(payment_id)
    return refund.status if refund is not None else "none"


@db_task(retries=3, retry_delay=60)
def receipt_email(receipt_id: str) -> bool:
    from jasa.payments.receipts import receipt_send

    return receipt_send(receipt_id)


@db_task(retries=3, retry_delay=60)
def refund_receipt_email(refund_id: str) -> bool:
    from jasa.payments.receipts import refund_receipt_send

    return refund_receipt_send(refund_id)


@db_periodic_task(crontab(minute="*/2"))
def payments_reconcile_task() -> dict[str, int]:
    return services.payments_reconcile()


@db_periodic_task(crontab(minute="*/2"))
def saved_method_setups_reconcile_task() -> dict[str, int]:
    """Cards being saved without a payment: re-read the quiet ones, expire the abandoned."""
    return services_setup.saved_method_setups_reconcile()


@db_periodic_task(crontab(minute="41"))
def ledger_check_task() -> None:
    """Hourly; the ledger check itself runs once a day (services_ledger.ledger_check_if_due)."""
    from jasa.payments.services_ledger import ledger_check_if_due

    ledger_check_if_due()
