"""Gateway fees: built-in defaults from the gateways' published prices, overridden by FeeRule rows.

Lookup order for (workspace, gateway, method): a workspace row for the method, for its family;
a global row for the method, for its family; then the built-in table (gateway-specific first, then "*").
Rows are per currency; a built-in fixed fee is in rupiah and is not added to another currency.

Rounding: a fee is ``percent × amount`` rounded half up to a whole minor unit (0.7 % of Rp 500 = 3.5 ->
Rp 4), then the fixed part; that is the estimate the ledger records when the gateway reports no fee. A
passed-on surcharge is rounded *up* instead (:func:`gross_up`), so the business never nets less than
the amount it asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from jasa.core.money import Money
from jasa.payments.gateways.base import Method


@dataclass(frozen=True)
class Fee:
    percent_bp: int  # basis points: 290 = 2.9 %
    fixed: int  # minor units of IDR
    currency: str = "IDR"

    def of(self, amount: Money) -> Money:
        fixed = self.fixed if amount.currency == self.currency else 0  # a fixed IDR fee says nothing about USD
        return amount.scale(Fraction(self.percent_bp, 10_000)) + Money(fixed, amount.currency)


# Published list prices (Midtrans/Xendit, 2025): card 2.9 % + Rp 2.000, VA Rp 4.000, QRIS 0.7 %,
# GoPay 2 %, other e-wallets 1.5 %, convenience stores Rp 5.000.
DEFAULT_FEES: dict[tuple[str, str], Fee] = {
    ("*", "card"): Fee(290, 2000),
    ("*", "va"): Fee(0, 4000),
    ("*", "qris"): Fee(70, 0),
    ("*", "ewallet"): Fee(150, 0),
    ("*", "gopay"): Fee(200, 0),
    ("*", "store"): Fee(0, 5000),
    ("stripe", "card"): Fee(340, 2000),
}


def fee_for(workspace, gateway: str, method: str | None, amount: Money) -> Money:
    """The fee the gateway will charge for ``amount`` by ``method`` (zero when the method is unknown)."""
    if not method:
        return Money.zero(amount.currency)
    rule = _lookup(workspace, gateway, method, amount.currency)
    return rule.of(amount) if rule else Money.zero(amount.currency)


def surcharge(workspace, account, method: str | None, applied: Money) -> Money:
    """What the client pays on top of ``applied`` by ``method`` through the business's gateway ``account``: the
    grossed-up fee when the account passes fees on; zero when the business absorbs them, and when the client
    picks the method on the gateway's page (``method`` None: the fee is not known when the payment starts).
    The pay page shows this before the client chooses, and payment_start charges it."""
    from jasa.payments.models import FeeBearer

    if account is None or account.fee_bearer != FeeBearer.PASS_ON or not method:
        return Money.zero(applied.currency)
    return gross_up(workspace, account.gateway, method, applied)


def gross_up(workspace, gateway: str, method: str | None, applied: Money) -> Money:
    """The surcharge that makes ``applied + surcharge - fee(applied + surcharge) == applied``."""
    if not method:
        return Money.zero(applied.currency)
    rule = _lookup(workspace, gateway, method, applied.currency)
    if rule is None:
        return Money.zero(applied.currency)
    fixed = rule.fixed if applied.currency == rule.currency else 0
    gross = Fraction(applied.amount + fixed) / (1 - Fraction(rule.percent_bp, 10_000))
    gross_int = -(-gross.numerator // gross.denominator)  # round up: the business never comes out short
    return Money(gross_int - applied.amount, applied.currency)


def _lookup(workspace, gateway: str, method: str, currency: str) -> Fee | None:
    from jasa.payments.models import FeeRule

    family = Method(method).family if method in Method._value2member_map_ else method
    keys = [method, family] if family != method else [method]
    rows = {
        (r.workspace_id, r.method): r
        for r in FeeRule.objects.filter(gateway=gateway, method__in=keys, currency=currency).filter(
            workspace__in=[workspace] if workspace is not None else []
        )
        | FeeRule.objects.filter(gateway=gateway, method__in=keys, currency=currency, workspace__isnull=True)
    }
    ws_id = getattr(workspace, "pk", None)
    for owner in (ws_id, None):
        for key in keys:
            row = rows.get((owner, key))
            if row is not None:
                return Fee(row.percent_bp, row.fixed_amount, row.currency)
    for gw in (gateway, "*"):
        for key in keys:
            if (gw, key) in DEFAULT_FEES:
                return DEFAULT_FEES[(gw, key)]
    return None
