"""One local HTTP fake per gateway, started per test, and an adapter pointed at it."""

from __future__ import annotations

import pytest

from jasa.core.money import Money
from jasa.payments.gateways.base import Method, PaymentRequest

from .fakes.midtrans import FakeMidtrans
from .fakes.stripe import FakeStripe
from .fakes.xendit import FakeXendit

TIMEOUT = "1"  # seconds: the timeout tests sleep the fake past it


def _running(fake):
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_midtrans():
    yield from _running(FakeMidtrans(server_key="SB-Mid-server-test"))


@pytest.fixture
def midtrans(fake_midtrans):
    from jasa.payments.gateways.midtrans import MidtransGateway

    return MidtransGateway({"server_key": fake_midtrans.server_key, "client_key": "SB-Mid-client-test",
                            "core_api_url": fake_midtrans.url, "snap_url": f"{fake_midtrans.url}/snap/v1",
                            "timeout": TIMEOUT}, sandbox=True)


@pytest.fixture
def fake_stripe():
    yield from _running(FakeStripe(secret_key="sk_test_jasa", webhook_secret="whsec_jasa_test"))


@pytest.fixture
def stripe_gw(fake_stripe):
    from jasa.payments.gateways.stripe import StripeGateway

    return StripeGateway({"secret_key": fake_stripe.secret_key, "webhook_secret": fake_stripe.webhook_secret,
                          "api_base": fake_stripe.url, "timeout": TIMEOUT}, sandbox=True)


@pytest.fixture
def fake_xendit():
    yield from _running(FakeXendit(secret_key="xnd_development_jasa", callback_token="cb-token-jasa"))


@pytest.fixture
def xendit(fake_xendit):
    from jasa.payments.gateways.xendit import XenditGateway

    return XenditGateway({"secret_key": fake_xendit.secret_key, "callback_token": fake_xendit.callback_token,
                          "api_base": fake_xendit.url, "timeout": TIMEOUT}, sandbox=True)


@pytest.fixture
def make_request():
    counter = {"n": 0}

    def make(method: Method | None = None, amount: int = 150_000, currency: str = "IDR", **fields) -> PaymentRequest:
        counter["n"] += 1
        defaults = dict(
            reference=f"pay-{counter['n']:04d}",
            amount=Money(amount, currency),
            method=method,
            description="Konsultasi 60 menit",
            customer_name="Budi Santoso",
            customer_email="budi@example.test",
            customer_phone="+6281234567890",
            return_url="https://jasa.example/pay/done",
            notification_url="https://jasa.example/webhooks/x",
        )
        defaults.update(fields)
        return PaymentRequest(**defaults)

    return make
