"""Staff forms of the invoice screens. They validate shapes and turn typed prices into Money;
the invoice services decide the rules (client of this workspace, totals, PPN, numbering)."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from jasa.accounts.models import Client
from jasa.core.money import CURRENCIES, Money, exponent
from jasa.payments.models import InvoiceStatus, LineKind

MAX_LINES = 50
# Thousands separators are "." (id) or "," (en); the decimal mark is the other one.
_AMOUNT = re.compile(r"^[0-9.,]+$")
_GROUPED = re.compile(r"^[0-9]{1,3}([.,][0-9]{3})+$")


class AmountError(ValueError):
    """A typed price that is not an amount of the currency; the message says what to type."""


def parse_major(text: str, currency: str) -> Money:
    """A price as people type it, in major units, exactly into Money (never through float).

    "1.500.000", "1,500,000" and "1500000" are Rp 1.500.000; "12.50", "12,50" and "1,234.50" are
    USD 12.50 / 1,234.50. A single "." or "," followed by exactly three digits groups thousands
    ("1.500" is 1500, as Indonesians write it); otherwise the last mark is the decimal mark.
    """
    raw = re.sub(r"\s", "", text or "")
    if raw.lower().startswith("rp"):
        raw = raw[2:]
    if not raw or not _AMOUNT.match(raw) or not raw[0].isdigit() or not raw[-1].isdigit():
        raise AmountError(_("Type a price like 1.500.000 or 12.50, without a currency sign."))
    marks = [c for c in raw if c in ".,"]
    if not marks:
        whole, frac = raw, ""
    elif len(set(marks)) == 2 or (len(marks) == 1 and len(raw) - raw.rfind(marks[0]) - 1 != 3):
        # both marks ("1.234,50"), or a single one not grouping thousands ("12.50"): the last is the decimal mark
        point = max(raw.rfind("."), raw.rfind(","))
        whole, frac = raw[:point], raw[point + 1:]
        grouping = set(whole) & {".", ","}
        if raw[point] in grouping or len(grouping) > 1 or not (whole.isdigit() or _GROUPED.match(whole)):
            raise AmountError(_("Group thousands by three digits, e.g. 1.500.000 or 1,234.50."))
    elif _GROUPED.match(raw):
        whole, frac = raw, ""
    else:
        raise AmountError(_("Group thousands by three digits, e.g. 1.500.000 or 1,234.50."))
    whole = re.sub(r"[.,]", "", whole)
    if len(whole) > 15:
        raise AmountError(_("That price is too large."))
    if frac[exponent(currency):].strip("0"):  # "1500000.00" is still whole rupiah
        if exponent(currency) == 0:
            raise AmountError(_("%(currency)s has no decimals; type whole amounts like 1.500.000.")
                              % {"currency": currency})
        raise AmountError(_("%(currency)s takes at most %(n)s decimals.")
                          % {"currency": currency, "n": exponent(currency)})
    return Money.from_major(f"{whole}.{frac}" if frac else whole, currency)  # Decimal from text: exact


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("any"))] + list(InvoiceStatus.choices))
    client: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Client"), required=False,
                                                            queryset=Client.objects.none(), empty_label=_("any"))
    number = forms.CharField(label=_("Number"), required=False, max_length=32,
                             widget=forms.TextInput(attrs={"placeholder": "INV/2026/…", "type": "search"}))
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = workspace.clients.order_by("name")  # type: ignore[attr-defined]


class InvoiceForm(forms.Form):
    client: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(),
        error_messages={"invalid_choice": _("Choose one of this business's clients.")})
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in CURRENCIES])
    due_date = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("The client should pay by the end of this day (business time zone)."))
    memo = forms.CharField(label=_("Note for the client"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = workspace.clients.order_by("name")  # type: ignore[attr-defined]
        self.fields["currency"].initial = workspace.currency


class InvoiceLineForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), initial=LineKind.SERVICE,
                             choices=[(LineKind.SERVICE, LineKind.SERVICE.label),
                                      (LineKind.DISCOUNT, LineKind.DISCOUNT.label)])
    description = forms.CharField(label=_("Description"), max_length=300)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100_000, initial=1)
    unit_price = forms.CharField(label=_("Unit price"), max_length=40,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1.500.000"}))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def has_changed(self) -> bool:
        # an untouched extra row (only the prefilled kind and quantity) is left out, not an error
        return any(self.data.get(self.add_prefix(name), "").strip() for name in ("description", "unit_price"))

    def clean_unit_price(self) -> Money:
        try:
            return parse_major(self.cleaned_data["unit_price"], self.currency)
        except AmountError as exc:
            raise forms.ValidationError(str(exc.args[0]))

    def line(self) -> dict[str, Any]:
        """The line as invoice_create takes it."""
        d = self.cleaned_data
        return {"kind": d["kind"], "description": d["description"], "quantity": d["quantity"],
                "amount": d["unit_price"]}


class BaseLineFormSet(forms.BaseFormSet):
    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_few_forms": _("Add at least one line with a description and a price."),
        "too_many_forms": _("An invoice takes at most %(num)d lines."),
    }

    def initial_form_count(self) -> int:
        # every row may be blanked out to drop it, also the lines of a draft being edited
        return 0

    def _construct_form(self, i, **kwargs):
        # any blank row is left out (validate_min still asks for one line), not only the rows after the first
        return super()._construct_form(i, empty_permitted=True, **kwargs)

    def lines(self) -> list[dict[str, Any]]:
        return [f.line() for f in self.forms if f.has_changed()]


LineFormSet = forms.formset_factory(InvoiceLineForm, formset=BaseLineFormSet, extra=0, min_num=1,
                                    validate_min=True, max_num=MAX_LINES, validate_max=True)


def line_formset(data=None, *, currency: str, initial=None, add: bool = False) -> BaseLineFormSet:
    """The lines of the invoice form. Unbound: the draft's lines (or one row) and two blank rows. With ``add``
    (the "Add a line" button) the posted rows come back unvalidated, as typed, plus one blank row."""
    rows = max(len(initial or []), 1) + 2
    if data is not None and add:
        count = min(int(data.get("lines-TOTAL_FORMS") or 0), MAX_LINES - 1)
        initial = [{name: data.get(f"lines-{i}-{name}", "") for name in InvoiceLineForm.base_fields}
                   for i in range(count)]
        data, rows = None, count + 1
    formset = cast(BaseLineFormSet, LineFormSet(data, prefix="lines", initial=initial,
                                                form_kwargs={"currency": currency}))
    formset.extra = max(rows, 1) - 1  # unbound: min_num (1) + extra rows
    return formset


class ReasonForm(forms.Form):
    """Void / mark uncollectible: the reason is required and goes to the audit log."""

    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class IssueForm(forms.Form):
    send_link = forms.BooleanField(label=_("Email the pay link to the client"), required=False, initial=True)
