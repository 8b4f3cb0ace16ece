"""Invoices: drafts, issue with gap-free numbers and PPN, idempotent sources, void, validation."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.core import clock
from jasa.core.errors import Conflict, ValidationError
from jasa.core.money import Money
from jasa.payments.models import InvoiceStatus, LineKind
from jasa.payments.services import invoice_create, invoice_issue, invoice_void
from jasa.payments.services_config import tax_settings_save

pytestmark = pytest.mark.django_db


def test_draft_has_no_number_and_totals_from_lines(workspace, client_factory):
    inv = invoice_create(workspace=workspace, client=client_factory(workspace), lines=[
        {"kind": "service", "description": "Logo", "amount": Money(500_000), "quantity": 2},
        {"kind": "discount", "description": "Promo", "amount": Money(100_000)},
    ])
    assert inv.status == InvoiceStatus.DRAFT and inv.number is None
    assert inv.total == Money(900_000)
    assert [li.line_amount for li in inv.lines.all()] == [1_000_000, -100_000]


def test_source_makes_create_idempotent(workspace, client_factory):
    client = client_factory(workspace)
    lines = [{"kind": "service", "description": "DP", "amount": Money(200_000)}]
    a = invoice_create(workspace=workspace, client=client, lines=lines, source="booking:1:deposit")
    b = invoice_create(workspace=workspace, client=client, lines=lines, source="booking:1:deposit")
    assert a.pk == b.pk


def test_issue_numbers_are_gap_free_per_year(workspace, invoice_factory, frozen_clock):
    numbers = [invoice_factory(workspace).number for _ in range(3)]
    assert numbers == ["INV/2026/000001", "INV/2026/000002", "INV/2026/000003"]
    # a failing issue (zero total) takes no number
    zero = invoice_factory(workspace, 0, issue=False)
    with pytest.raises(ValidationError):
        invoice_issue(zero)
    assert invoice_factory(workspace).number == "INV/2026/000004"
    clock.advance(dt.timedelta(days=40))  # 2027 in Jakarta
    assert invoice_factory(workspace).number == "INV/2027/000001"


def test_numbers_are_per_workspace(workspace_factory, invoice_factory, frozen_clock):
    a, b = workspace_factory(), workspace_factory()
    assert invoice_factory(a).number == invoice_factory(b).number == "INV/2026/000001"


def test_issue_adds_ppn_line_on_eleven_twelfths(workspace, invoice_factory):
    tax_settings_save(workspace=workspace, enabled=True, rate_percent="12", base_numerator=11, base_denominator=12)
    inv = invoice_factory(workspace, 1_200_000)
    tax = inv.lines.get(kind=LineKind.TAX)
    assert tax.line_amount == 132_000  # 12 % of 11/12 x 1.200.000
    assert "PPN 12%" in tax.description
    assert inv.total == Money(1_332_000) and inv.tax == Money(132_000)


def test_no_ppn_when_off(workspace, invoice_factory):
    inv = invoice_factory(workspace, 1_200_000)
    assert not inv.lines.filter(kind=LineKind.TAX).exists()


def test_issue_twice_is_harmless(workspace, invoice_factory):
    inv = invoice_factory(workspace)
    assert invoice_issue(inv).number == inv.number


@pytest.mark.parametrize(("line", "field"), [
    ({"kind": "bogus", "description": "x", "amount": Money(1)}, "lines.0.kind"),
    ({"kind": "service", "description": "", "amount": Money(1)}, "lines.0.description"),
    ({"kind": "service", "description": "x", "amount": Money(1, "USD")}, "lines.0.amount"),
    ({"kind": "service", "description": "x", "amount": Money(-5)}, "lines.0.amount"),
    ({"kind": "service", "description": "x", "amount": Money(1), "quantity": 0}, "lines.0.quantity"),
    ({"kind": "service", "description": "x", "amount": 12}, "lines.0.amount"),
])
def test_bad_lines_are_refused_with_the_field(workspace, client_factory, line, field):
    with pytest.raises(ValidationError) as exc:
        invoice_create(workspace=workspace, client=client_factory(workspace), lines=[line])
    assert exc.value.field == field


def test_client_of_another_workspace_is_refused(workspace_factory, client_factory):
    a, b = workspace_factory(), workspace_factory()
    with pytest.raises(ValidationError):
        invoice_create(workspace=a, client=client_factory(b),
                       lines=[{"kind": "service", "description": "x", "amount": Money(1)}])


def test_void(workspace, invoice_factory):
    inv = invoice_factory(workspace)
    with pytest.raises(ValidationError):
        invoice_void(inv, "")
    inv = invoice_void(inv, "client cancelled")
    assert inv.status == InvoiceStatus.VOID
    with pytest.raises(Conflict):
        invoice_issue(inv)


def test_uncollectible(workspace, invoice_factory):
    from jasa.payments.services import invoice_mark_uncollectible

    inv = invoice_mark_uncollectible(invoice_factory(workspace), "client vanished")
    assert inv.status == InvoiceStatus.UNCOLLECTIBLE
    with pytest.raises(Conflict):
        invoice_mark_uncollectible(invoice_factory(workspace, issue=False), "x")


def test_ppn_with_full_base_and_custom_rate(workspace, invoice_factory):
    tax_settings_save(workspace=workspace, enabled=True, rate_percent="11", base_numerator=1, base_denominator=1)
    inv = invoice_factory(workspace, 1_000_000)
    assert inv.tax == Money(110_000)
    assert inv.lines.get(kind=LineKind.TAX).description == "PPN 11%"
