"""A child process for the PostgreSQL race tests: waits for a common start time, then acts.

    python -m tests.payments.race_worker sync <start_epoch> <payment_id> <amount>
    python -m tests.payments.race_worker issue <start_epoch> <invoice_id> [<invoice_id> ...]
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
    if mode == "sync":
        payment_id, amount = argv[2], int(argv[3])
        # this process's view of the gateway: the client has paid
        FakeGateway.world[payment_id] = {"status": Status.SUCCEEDED, "amount": Money(amount), "method": Method.CARD,
                                         "refunds": {}}
    time.sleep(max(0.0, start - time.time()))
    if mode == "sync":
        print(services.payment_sync(payment_id).status)
    elif mode == "issue":
        for invoice_id in argv[2:]:
            print(services.invoice_issue(Invoice.objects.get(pk=invoice_id)).number)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
