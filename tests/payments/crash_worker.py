"""The process that dies in the crash tests (test_races_postgres.py): it POSTs one request through jasa's
whole request stack — middleware with the Idempotency-Key, API key auth, the REST handler, the payment
core, the gateway adapter over HTTP — and the test kills it with SIGKILL while the payment core applies the
gateway's answer, before that transaction commits.

    python -m tests.payments.crash_worker <bearer token> <path> <idempotency key> <json body>

Django's test client carries the request in-process (no server to start). Anything printed means the
request finished: the kill came too late, and the test fails on it.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jasa.settings")
    import django

    django.setup()
    from django.test import Client

    token, path, key, body = argv
    response = Client().post(path, data=body, content_type="application/json",
                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
    print(response.status_code, response.content.decode()[:500])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
