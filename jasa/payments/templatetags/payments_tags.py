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


@register.filter
def method_name(method: str) -> str:
    """A payment method as people know it ("Virtual account BNI"), in the current language, not its code."""
    from jasa.payments.documents import method_label

    return method_label(method, (translation.get_language() or "id")[:2]) if method else ""


@register.simple_tag
def owed_refunds(invoice) -> list:
    from jasa.payments.selectors import owed_refunds as owed

    return owed(invoice)


@register.inclusion_tag("payments/staff/_owed_refund.html", takes_context=True)
def owed_refund_form(context, refund, next_url=""):
    """The "Record refund by bank transfer" form of one owed refund, amount prefilled."""
    return {"refund": refund, "next_url": next_url, "csrf_token": context.get("csrf_token"),
            "current_workspace": context.get("current_workspace")}
