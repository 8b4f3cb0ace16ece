"""The client's bank account for a refund owed by bank transfer: one form for every page that asks for it
(the booking's manage page, the invoice's refund page). ``refund_set_account`` checks the same rules again;
the form says them in the client's language."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from jasa.payments.services import ACCOUNT_NUMBER


class RefundAccountForm(forms.Form):
    """Where a refund the gateway cannot make is transferred: a bank account (never card data)."""

    bank_name = forms.CharField(label=_("Bank"), max_length=60,
                                widget=forms.TextInput(attrs={"placeholder": "BCA", "autocomplete": "off"}))
    account_number = forms.CharField(label=_("Account number"), max_length=40,
                                     widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    account_holder = forms.CharField(label=_("Account holder"), max_length=100,
                                     help_text=_("The name as your bank knows it."))

    def clean_account_number(self) -> str:
        number = re.sub(r"[\s.-]", "", self.cleaned_data["account_number"])
        if not ACCOUNT_NUMBER.match(number):
            raise forms.ValidationError(_("An account number is 5 to 20 digits."))
        return number
