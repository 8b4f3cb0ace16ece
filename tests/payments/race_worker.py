"""A child process for the PostgreSQL race tests: waits for a common start time, then acts.

    python -m tests.payments.race_worker sync <start_epoch> <payment_id> <amount>
    python -m tests.payments.race_worker webhook <start_epoch> <payment_id> <amount> <event_id>
    python -m tests.payments.race_worker reconcile <start_epoch> <payment_id> <amount>
    python -m tests.payments.race_worker issue <start_epoch> <invoice_id> [<invoice_id> ...]

``sync``, ``webhook`` and ``reconcile`` see the testpay gateway say the payment succeeded; ``webhook``
receives that gateway's signed notification as the endpoint does (stored once, then processed by the
queue, which runs tasks at once under JASA_TESTING), ``reconcile`` runs payments_reconcile an hour later.
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
    import django

    django.setup()
    from jasa.core.money import Money
    from jasa.payments import services
    from jasa.payments.gateways import base
    from jasa.payments.gateways.base import Method, Status
    from jasa.payments.models import Invoice
    from tests.payments.fakegw import FakeGateway

    mode, start = argv[0], float(argv[1])
    base.register(FakeGateway)
    if mode in ("sync", "webhook", "reconcile"):
        payment_id, amount = argv[2], int(argv[3])
        # this process's view of the gateway: the client has paid
        FakeGateway.world[payment_id] = {"status": Status.SUCCEEDED, "amount": Money(amount), "method": Method.CARD,
                                         "refunds": {}}
    time.sleep(max(0.0, start - time.time()))
    if mode == "sync":
        print(services.payment_sync(payment_id).status)
    elif mode == "webhook":
        received = services.webhook_receive("testpay", *FakeGateway.webhook(argv[4], payment_id, status="succeeded"))
        print("duplicate" if received.duplicate else "stored")
    elif mode == "reconcile":
        import datetime as dt

        from jasa.core import clock

        clock.freeze(clock.now() + dt.timedelta(hours=1))  # past the hosted checkout's expected time
        print(services.payments_reconcile()["checked"])
    elif mode == "issue":
        for invoice_id in argv[2:]:
            print(services.invoice_issue(Invoice.objects.get(pk=invoice_id)).number)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
