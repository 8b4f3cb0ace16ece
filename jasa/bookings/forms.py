"""The client's booking form: name, email, WhatsApp number (+62 form) and the offer's questions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jasa.bookings.phone import normalize_phone


class BookingForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)
    phone = forms.CharField(label=_("WhatsApp number"), max_length=40,
                            help_text=_("We send the confirmation and reminders here, e.g. +628123456789."),
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel",
                                                          "placeholder": "+628123456789"}))

    def __init__(self, *args, offer, language: str = "id", user=None, **kwargs):
        if getattr(user, "is_authenticated", False):
            kwargs.setdefault("initial", {"name": user.name, "email": user.email})
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        for question in offer.questions or []:
            key = str(question.get("key", ""))
            if not key:
                continue
            label = question.get(f"label_{language}") or question.get("label_id") or key
            self.fields[f"q_{key}"] = forms.CharField(
                label=label, required=bool(question.get("required")), max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc))

    def answers(self) -> dict:
        return {name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("q_") and value}

