"""Staff forms of the payment core. They validate shapes; services decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jasa.payments.gateways.base import Method, Status, gateway_names
from jasa.payments.models import FeeBearer

# Which credentials each gateway's adapter reads (see jasa/payments/gateways/*.py).
CREDENTIAL_FIELDS: dict[str, list[str]] = {
    "sandbox": ["merchant_id", "secret_key"],
    "midtrans": ["server_key", "client_key"],
    "xendit": ["secret_key", "callback_token"],
    "stripe": ["secret_key", "webhook_secret"],
}
METHOD_CHOICES: list[tuple[str, Any]] = [(m.value, m.value) for m in Method]
STATUS_CHOICES: list[tuple[str, Any]] = [(s.value, s.value.replace("_", " ")) for s in Status]
ANY: list[tuple[str, Any]] = [("", _("any"))]


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=ANY + STATUS_CHOICES)
    method = forms.ChoiceField(label=_("Method"), required=False, choices=ANY + METHOD_CHOICES)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class RefundForm(forms.Form):
    amount = forms.IntegerField(label=_("Amount"), min_value=1)
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class TransferRefundForm(forms.Form):
    """Staff record a refund they paid by bank transfer (VA / store payments the gateway cannot refund)."""

    amount = forms.IntegerField(label=_("Amount"), min_value=1)
    transfer_reference = forms.CharField(label=_("Transfer reference"), max_length=100)
    reason = forms.CharField(label=_("Reason"), max_length=1000)
    refund_key = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)


class GatewayAccountForm(forms.Form):
    gateway = forms.ChoiceField(label=_("Gateway"))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    is_default = forms.BooleanField(label=_("Default gateway"), required=False)
    sandbox = forms.BooleanField(label=_("Test mode (sandbox)"), required=False, initial=True)
    enabled_methods = forms.MultipleChoiceField(label=_("Methods (none selected: all)"), required=False,
                                                choices=METHOD_CHOICES, widget=forms.CheckboxSelectMultiple)
    fee_bearer = forms.ChoiceField(label=_("Who bears the gateway fee"), choices=FeeBearer.choices)
    credential_1 = forms.CharField(label=_("Key 1"), required=False, widget=forms.PasswordInput(render_value=False))
    credential_2 = forms.CharField(label=_("Key 2"), required=False, widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [(n, n) for n in gateway_names()]

    def credentials(self) -> dict[str, str] | None:
        """The credentials typed in, or None to keep the stored ones (fields are never pre-filled)."""
        names = CREDENTIAL_FIELDS.get(self.cleaned_data["gateway"], ["key_1", "key_2"])
        values = [self.cleaned_data.get("credential_1", ""), self.cleaned_data.get("credential_2", "")]
        if not any(values):
            return None
        return {name: value for name, value in zip(names, values, strict=False) if value}


class FeeRuleForm(forms.Form):
    gateway = forms.ChoiceField(label=_("Gateway"))
    method = forms.ChoiceField(label=_("Method or family"), choices=[(f, f) for f in
                                                                     ("card", "va", "qris", "ewallet", "store")]
                               + METHOD_CHOICES)
    percent = forms.DecimalField(label=_("Percent"), min_value=0, max_value=100, decimal_places=2)
    fixed = forms.IntegerField(label=_("Fixed fee"), min_value=0, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = [(n, n) for n in gateway_names()]


class TaxForm(forms.Form):
    enabled = forms.BooleanField(label=_("Charge PPN"), required=False)
    rate_percent = forms.DecimalField(label=_("Rate (%)"), min_value=0, max_value=100, decimal_places=2)
    base_numerator = forms.IntegerField(label=_("Tax base numerator"), min_value=1)
    base_denominator = forms.IntegerField(label=_("Tax base denominator"), min_value=1)
