from django import template
from django.utils import translation

from jasa.core.money import Money

register = template.Library()


@register.filter
def money(value) -> str:
    """A Money in the current language: "Rp 500.000" (id) / "IDR 500,000" (en)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dict):
        value = Money.from_json(value)
    if isinstance(value, int):
        value = Money(value)
    lang = (translation.get_language() or "id")[:2]
    return value.format("en" if lang == "en" else "id")
