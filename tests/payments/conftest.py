"""Fixtures of the payment core's tests: the in-test gateway, clients and issued invoices."""

from __future__ import annotations

import itertools

import pytest

from jasa.core.money import Money
from jasa.payments.gateways import base
from tests.payments.fakegw import FakeGateway


@pytest.fixture
def fakegw():
    base.register(FakeGateway)
    FakeGateway.reset()
    yield FakeGateway
    FakeGateway.reset()
    base._registry.pop(FakeGateway.name, None)


@pytest.fixture
def pay_invoice(fakegw):
    """Pay an invoice on the fake gateway: start a payment, let the gateway say it succeeded, apply the re-read."""
    from jasa.payments.gateways.base import Status
    from jasa.payments.services import payment_start, payment_sync

    def make(invoice, idempotency_key: str, **start):
        payment = payment_start(invoice=invoice, idempotency_key=idempotency_key, **start)
        fakegw.set_status(payment.reference, Status.SUCCEEDED)
        return payment_sync(payment.pk)

    return make


@pytest.fixture
def client_factory(db):
    from jasa.accounts.models import Client

    counter = itertools.count(1)

    def make(workspace, **fields):
        n = next(counter)
        fields.setdefault("name", f"Client {n}")
        fields.setdefault("email", f"client{n}@example.test")
        return Client.objects.create(workspace=workspace, **fields)

    return make


@pytest.fixture
def invoice_factory(client_factory):
    from jasa.payments.services import invoice_create, invoice_issue

    def make(workspace, amount: int = 1_000_000, *, issue: bool = True, client=None, **kwargs):
        client = client or client_factory(workspace)
        invoice = invoice_create(
            workspace=workspace, client=client,
            lines=[{"kind": "service", "description": "Konsultasi 60 menit", "amount": Money(amount)}], **kwargs,
        )
        return invoice_issue(invoice) if issue else invoice

    return make


@pytest.fixture
def ws(workspace, fakegw):
    """The `acme` workspace with the in-test gateway as its default."""
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="testpay", credentials={"key": "k"}, is_default=True)
    return workspace
