"""Small helpers shared by the web views."""

from __future__ import annotations

from django import forms

from jasa.core.errors import JasaError


def form_error(form: forms.BaseForm, exc: JasaError) -> None:
    """Show a service's refusal on the form, beside the field it is about when there is one."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def changed_data(form: forms.BaseForm) -> dict:
    """Only the fields a person changed, so an unchanged form writes nothing to the audit log."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
