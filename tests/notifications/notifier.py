"""A process that calls notify() at a given instant: ``python -m tests.notifications.notifier``.

Used by the cross-process dedupe test: several of these ask for the same reminder at once,
each with the real queue, and exactly one mail must arrive.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--start-at", type=float, default=0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
    import django

    django.setup()
    from django.db import transaction

    from jasa.accounts.models import Workspace
    from jasa.notifications.services import notify

    workspace = Workspace.objects.get(pk=args.workspace)
    time.sleep(max(0.0, args.start_at - time.time()))
    with transaction.atomic():
        message = notify(workspace=workspace, channel="email", recipient=args.to, template="notifications.test",
                         context={"recipient_name": "Sari"}, dedupe_key=args.key, language="en")
    print(message.pk)


if __name__ == "__main__":
    main()
