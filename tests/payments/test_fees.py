"""Gateway fees: the built-in prices, the order in which rules override them, rounding to whole minor
units, and that a fee a business saves on its settings page is the one its payments then use."""

from __future__ import annotations

import pytest

from jasa.accounts.models import Membership
from jasa.core.money import Money
from jasa.payments import fees
from jasa.payments.gateways.base import Method, Status
from jasa.payments.models import FeeRule, LedgerEntry, LedgerKind
from jasa.payments.services import payment_start, payment_sync
from jasa.payments.services_config import fee_rule_save, gateway_account_save

pytestmark = pytest.mark.django_db

RP_1M = Money(1_000_000)

# Every built-in price (fees.DEFAULT_FEES) on Rp 1.000.000, per method jasa knows.
BUILT_IN = [
    ("midtrans", Method.CARD, 31_000),  # 2.9 % + Rp 2.000
    ("xendit", Method.CARD, 31_000),
    ("stripe", Method.CARD, 36_000),  # Stripe: 3.4 % + Rp 2.000
    *(("midtrans", m, 4_000) for m in (Method.VA_BCA, Method.VA_BNI, Method.VA_BRI, Method.VA_MANDIRI,
                                       Method.VA_PERMATA)),  # Rp 4.000 flat
    ("midtrans", Method.QRIS, 7_000),  # 0.7 %
    ("midtrans", Method.GOPAY, 20_000),  # GoPay 2 %
    *(("xendit", m, 15_000) for m in (Method.OVO, Method.DANA, Method.SHOPEEPAY)),  # other e-wallets 1.5 %
    ("xendit", Method.INDOMARET, 5_000),  # Rp 5.000 flat
    ("xendit", Method.ALFAMART, 5_000),
]


@pytest.mark.parametrize(("gateway", "method", "fee"), BUILT_IN)
def test_built_in_fee_of_each_method(workspace, gateway, method, fee):
    assert fees.fee_for(workspace, gateway, method.value, RP_1M) == Money(fee)


def test_every_method_has_a_built_in_price_and_every_price_is_tested():
    def table_key(gateway: str, method: Method) -> tuple[str, str] | None:
        """The DEFAULT_FEES row a lookup lands on: the gateway's own, then "*"; the method, then its family."""
        for gw in (gateway, "*"):
            for key in (method.value, method.family):
                if (gw, key) in fees.DEFAULT_FEES:
                    return gw, key
        return None

    assert {m for _, m, _ in BUILT_IN} == set(Method)
    assert {table_key(gw, m) for gw, m, _ in BUILT_IN} == set(fees.DEFAULT_FEES)


def test_no_method_no_fee(workspace):
    """A hosted checkout before the client picked: nothing is known to charge yet."""
    assert fees.fee_for(workspace, "midtrans", "", RP_1M) == Money(0)
    assert fees.gross_up(workspace, "midtrans", None, RP_1M) == Money(0)


@pytest.mark.parametrize(("amount", "fee"), [
    (50, 0),  # 0.35 -> 0
    (500, 4),  # 3.5 -> 4: a half rounds up
    (150_050, 1_050),  # 1 050.35 -> 1 050
    (150_072, 1_051),  # 1 050.504 -> 1 051
])
def test_a_percentage_is_rounded_half_up_to_a_whole_rupiah(workspace, amount, fee):
    assert fees.fee_for(workspace, "midtrans", "qris", Money(amount)) == Money(fee)


def test_percent_and_fixed_part_round_once(workspace):
    # 2.9 % of 1.234.567 = 35 802.443 -> 35 802, plus Rp 2.000
    assert fees.fee_for(workspace, "midtrans", "card", Money(1_234_567)) == Money(37_802)


def test_a_fixed_rupiah_fee_is_not_added_to_another_currency(workspace):
    # 2.9 % of USD 100.00 (10 000 cents) = 290 cents; the Rp 2.000 says nothing about dollars
    assert fees.fee_for(workspace, "stripe", "card", Money(10_000, "USD")) == Money(340, "USD")
    assert fees.fee_for(workspace, "midtrans", "va_bca", Money(10_000, "USD")) == Money(0, "USD")


@pytest.mark.parametrize("applied", [1, 999, 100_000, 1_000_000, 1_234_567, 99_999_999])
@pytest.mark.parametrize("method", ["card", "qris", "va_bca", "gopay"])
def test_gross_up_rounds_up_so_the_business_nets_at_least_the_amount(workspace, method, applied):
    amount = Money(applied)
    surcharge = fees.gross_up(workspace, "midtrans", method, amount)
    gross = amount + surcharge
    assert gross - fees.fee_for(workspace, "midtrans", method, gross) >= amount
    # and not a rupiah more than needed: one less and the exact grossed-up amount would fall short
    exact_gross_minus_one = gross - Money(1)
    rule = fees._lookup(workspace, "midtrans", method, "IDR")
    assert exact_gross_minus_one.amount * (10_000 - rule.percent_bp) < (applied + rule.fixed) * 10_000


def test_rules_override_in_order_workspace_then_global_then_built_in(workspace, workspace_factory):
    def card_fee():
        return fees.fee_for(workspace, "midtrans", "card", RP_1M)

    assert card_fee() == Money(31_000)  # built-in "*" card
    FeeRule.objects.create(workspace=None, gateway="midtrans", method="card", percent_bp=0, fixed_amount=9_000)
    assert card_fee() == Money(9_000)  # a global rule beats the built-in
    FeeRule.objects.create(workspace=workspace, gateway="midtrans", method="card", percent_bp=0, fixed_amount=1_000)
    assert card_fee() == Money(1_000)  # the workspace's rule beats the global one
    # another business's rule, another gateway's, another currency's: not ours
    FeeRule.objects.create(workspace=workspace_factory(), gateway="midtrans", method="card", fixed_amount=1)
    FeeRule.objects.create(workspace=workspace, gateway="xendit", method="card", fixed_amount=2)
    FeeRule.objects.create(workspace=workspace, gateway="midtrans", method="card", fixed_amount=3, currency="USD")
    assert card_fee() == Money(1_000)


def test_within_an_owner_the_method_beats_its_family_and_a_workspace_family_beats_a_global_method(workspace):
    def bca_fee():
        return fees.fee_for(workspace, "midtrans", "va_bca", RP_1M)

    FeeRule.objects.create(workspace=None, gateway="midtrans", method="va", fixed_amount=4_500)
    assert bca_fee() == Money(4_500)  # global family
    FeeRule.objects.create(workspace=None, gateway="midtrans", method="va_bca", fixed_amount=4_400)
    assert bca_fee() == Money(4_400)  # global method beats global family
    FeeRule.objects.create(workspace=workspace, gateway="midtrans", method="va", fixed_amount=3_000)
    assert bca_fee() == Money(3_000)  # any workspace rule beats any global one
    FeeRule.objects.create(workspace=workspace, gateway="midtrans", method="va_bca", fixed_amount=2_500)
    assert bca_fee() == Money(2_500)
    assert fees.fee_for(workspace, "midtrans", "va_bni", RP_1M) == Money(3_000)  # the family rule still covers BNI


def test_built_in_gateway_price_beats_the_general_one(workspace):
    assert fees.fee_for(workspace, "stripe", "card", RP_1M) == Money(36_000)
    fee_rule_save(workspace=workspace, gateway="stripe", method="card", percent="2.9", fixed=0)
    assert fees.fee_for(workspace, "stripe", "card", RP_1M) == Money(29_000)


# --- a saved rule is what payments use --------------------------------------------------------


@pytest.fixture
def owner_client(ws, client):
    client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    return client


def save_fee(owner_client, ws, method: str, percent: str, fixed: str) -> None:
    response = owner_client.post(f"/dashboard/{ws.slug}/payments/settings/", {
        "form": "fee", "fee-gateway": "testpay", "fee-method": method, "fee-percent": percent, "fee-fixed": fixed})
    assert response.status_code == 302


def fee_entry(payment) -> int:
    return LedgerEntry.objects.get(payment=payment, kind=LedgerKind.GATEWAY_FEE).amount


def pay(ws, invoice_factory, fakegw, key: str, method: str, **world):
    payment = payment_start(invoice=invoice_factory(ws, 1_000_000), idempotency_key=key, method=method)
    fakegw.set_status(payment.reference, Status.SUCCEEDED, **world)
    return payment_sync(payment.pk)


def test_a_fee_saved_on_the_settings_page_is_what_payments_record(owner_client, ws, invoice_factory, fakegw):
    assert fee_entry(pay(ws, invoice_factory, fakegw, "before", "card")) == 31_000  # built-in
    save_fee(owner_client, ws, "card", "2.5", "1500")
    save_fee(owner_client, ws, "va", "0", "3000")
    assert fee_entry(pay(ws, invoice_factory, fakegw, "card", "card")) == 26_500  # 2.5 % + Rp 1.500
    assert fee_entry(pay(ws, invoice_factory, fakegw, "va", "va_bca")) == 3_000  # the family's rule
    save_fee(owner_client, ws, "card", "2", "0")  # saving again replaces the rule
    assert FeeRule.objects.filter(workspace=ws, gateway="testpay", method="card").count() == 1
    assert fee_entry(pay(ws, invoice_factory, fakegw, "card2", "card")) == 20_000


def test_a_saved_fee_is_what_a_passed_on_surcharge_is_grossed_up_with(owner_client, ws, invoice_factory, fakegw):
    gateway_account_save(workspace=ws, gateway="testpay", is_default=True, fee_bearer="pass_on")
    save_fee(owner_client, ws, "card", "2.5", "1500")
    payment = payment_start(invoice=invoice_factory(ws, 1_000_000), idempotency_key="sur", method="card")
    # (1.000.000 + 1.500) / 0.975 = 1 027 179.49 -> 1 027 180 (up): surcharge Rp 27.180
    assert payment.surcharge == Money(27_180) and payment.amount == Money(1_027_180)
    fakegw.set_status(payment.reference, Status.SUCCEEDED)
    payment = payment_sync(payment.pk)
    assert fee_entry(payment) == 27_180  # 2.5 % of 1 027 180 = 25 679.5 -> 25 680, + 1 500
    assert payment.gross_amount - fee_entry(payment) == 1_000_000  # the business nets what it invoiced


def test_the_fee_a_gateway_reports_wins_over_the_estimate(ws, invoice_factory, fakegw):
    payment = pay(ws, invoice_factory, fakegw, "reported", "card", fee=Money(30_123))
    assert fee_entry(payment) == 30_123
