"""Writes of a workspace's payment configuration: gateway accounts, fee rules, tax (PPN) settings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from jasa.core import audit, clock
from jasa.core.errors import ValidationError
from jasa.payments import wording
from jasa.payments.connect import gateway_for, unknown_gateway_message
from jasa.payments.gateways.base import GatewayDeclined, GatewayError, Method, gateway_class
from jasa.payments.models import FeeBearer, FeeRule, GatewayAccount, TaxSettings


@transaction.atomic
def gateway_account_save(
    *,
    workspace,
    gateway: str,
    credentials: dict[str, str] | None = None,
    enabled: bool = True,
    is_default: bool = False,
    sandbox: bool = True,
    enabled_methods: list[str] | None = None,
    fee_bearer: str = FeeBearer.ABSORB,
) -> GatewayAccount:
    """Create or update the workspace's account for ``gateway``. ``credentials=None`` keeps the stored ones."""
    try:
        cls = gateway_class(gateway)
    except LookupError:
        raise ValidationError(unknown_gateway_message(gateway), field="gateway")
    methods = list(enabled_methods or [])
    unknown = [m for m in methods if m not in Method._value2member_map_ or Method(m) not in cls.methods]
    if unknown:
        raise ValidationError(_("%(gateway)s does not offer: %(methods)s.") % {
            "gateway": cls.label, "methods": wording.methods(unknown)}, field="enabled_methods")
    if fee_bearer not in FeeBearer.values:
        raise ValidationError(_("Choose who bears the fee: absorb or pass_on."), field="fee_bearer")
    account = GatewayAccount.objects.select_for_update().filter(workspace=workspace, gateway=gateway).first()
    before = None if account is None else {"enabled": account.enabled, "default": account.is_default,
                                           "sandbox": account.sandbox, "fee_bearer": account.fee_bearer}
    if account is None:
        account = GatewayAccount(workspace=workspace, gateway=gateway)
    if is_default:
        GatewayAccount.objects.filter(workspace=workspace, is_default=True).exclude(pk=account.pk).update(
            is_default=False)
    account.enabled = enabled
    account.is_default = is_default
    account.sandbox = sandbox
    account.enabled_methods = methods
    account.fee_bearer = fee_bearer
    if credentials is not None:
        account.set_credentials({k: str(v) for k, v in credentials.items() if v not in (None, "")})
    account.save()
    # never write credentials to the audit log
    audit.record(account, "gateway_account.save", before=before, after={
        "enabled": enabled, "default": is_default, "sandbox": sandbox, "fee_bearer": fee_bearer,
        "methods": methods, "credentials_changed": credentials is not None,
    })
    return account


def gateway_account_test(account: GatewayAccount) -> str:
    """Make the gateway's harmless authenticated call; remember and return the result."""
    try:
        result = gateway_for(account.workspace, account.gateway).test_connection()
        ok = True
    except (GatewayError, GatewayDeclined, ValueError) as exc:
        result, ok = f"failed: {exc}", False
    GatewayAccount.objects.filter(pk=account.pk).update(last_test_at=clock.now(), last_test_result=result[:300])
    audit.record(account, "gateway_account.test", after={"ok": ok, "result": result[:300]})
    return result


@transaction.atomic
def fee_rule_save(*, workspace, gateway: str, method: str, percent: str | Decimal = "0", fixed: int = 0,
                  currency: str = "IDR") -> FeeRule:
    """The workspace's own price for a gateway method, e.g. percent="2.9", fixed=2000."""
    try:
        bp = Decimal(str(percent)) * 100
    except InvalidOperation:
        raise ValidationError(_("Give the percentage as a number, e.g. 2.9."), field="percent")
    if bp < 0 or bp > 10_000 or bp != bp.to_integral_value():
        raise ValidationError(_("The percentage must be between 0 and 100 with at most two decimals."),
                              field="percent")
    if isinstance(fixed, bool) or not isinstance(fixed, int) or fixed < 0:
        raise ValidationError(_("The fixed fee must be a whole amount of at least 0."), field="fixed")
    families = {"card", "va", "qris", "ewallet", "store"}
    if method not in families and method not in Method._value2member_map_:
        raise ValidationError(_("Unknown payment method %(method)s.") % {"method": repr(method)}, field="method")
    rule, _created = FeeRule.objects.update_or_create(
        workspace=workspace, gateway=gateway, method=method, currency=currency,
        defaults={"percent_bp": int(bp), "fixed_amount": fixed},
    )
    audit.record(rule, "fee_rule.save", workspace=workspace,
                 after={"gateway": gateway, "method": method, "percent_bp": int(bp), "fixed": fixed})
    return rule


@transaction.atomic
def tax_settings_save(*, workspace, enabled: bool, rate_percent: str | Decimal = "12", base_numerator: int = 11,
                      base_denominator: int = 12, label: str = "PPN") -> TaxSettings:
    try:
        rate = Decimal(str(rate_percent))
    except InvalidOperation:
        raise ValidationError(_("Give the rate as a number, e.g. 12."), field="rate_percent")
    if not Decimal(0) <= rate <= Decimal(100):
        raise ValidationError(_("The rate must be between 0 and 100."), field="rate_percent")
    if base_numerator < 1 or base_denominator < 1 or base_numerator > base_denominator:
        raise ValidationError(_("The tax base must be a fraction like 11/12 (at most 1)."), field="base_numerator")
    row, _created = TaxSettings.objects.update_or_create(
        workspace=workspace,
        defaults={"enabled": enabled, "rate_percent": rate, "base_numerator": base_numerator,
                  "base_denominator": base_denominator, "label": label or "PPN"},
    )
    audit.record(row, "tax_settings.save", after={"enabled": enabled, "rate": str(rate),
                                                  "base": f"{base_numerator}/{base_denominator}"})
    return row
