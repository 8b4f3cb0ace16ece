"""How the payment core names things inside the refusals people read (JasaError.message): in the active
language's words ("BNI virtual account", "Lunas", "Rp 1.500.000"), never as codes ("va_bni", "paid").

Services raise in the request's language, so each helper reads the active language when it is called."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jasa.core.money import Money

# The names of payment statuses (PaymentIntent.STATUS_CHOICES' labels) and of saved-card setups' statuses.
PAYMENT_STATUS = {
    "created": gettext_lazy("created"),
    "requires_action": gettext_lazy("waiting for the client"),
    "processing": gettext_lazy("processing"),
    "succeeded": gettext_lazy("succeeded"),
    "failed": gettext_lazy("failed"),
    "canceled": gettext_lazy("canceled"),
    "expired": gettext_lazy("expired"),
    "partially_refunded": gettext_lazy("partially refunded"),
    "refunded": gettext_lazy("refunded"),
    "disputed": gettext_lazy("disputed"),
}
SETUP_STATUS = {
    "pending": gettext_lazy("waiting for the client"),
    "succeeded": gettext_lazy("saved"),
    "failed": gettext_lazy("failed"),
    "canceled": gettext_lazy("canceled"),
    "expired": gettext_lazy("expired"),
}


def language() -> str:
    return (translation.get_language() or "id")[:2]


def amount(money: Money) -> str:
    return money.format(language())


def method(code: str) -> str:
    from jasa.payments.documents import method_label  # documents imports models; keep this module light

    return method_label(code, language())


def methods(codes) -> str:
    return ", ".join(method(c) for c in codes)


def gateway(name: str) -> str:
    from jasa.payments.gateways.base import gateway_class

    try:
        return gateway_class(name).label
    except LookupError:
        return name


def invoice(inv) -> str:
    """An issued invoice by its number; a draft (no number yet) as "draft 1a2b3c4d"."""
    return inv.number or _("draft %(id)s") % {"id": str(inv.pk)[:8]}


def invoice_status(inv) -> str:
    return str(inv.get_status_display()).lower()


def payment_status(code: str) -> str:
    return str(PAYMENT_STATUS.get(code, code))


def gateway_reason(text: str) -> str:
    """A reason a gateway adapter gave (GatewayDeclined) in the active language: ours are English msgids
    (gateways/*.py mark them with gettext_noop, and payments store them so, to be translated when shown);
    a gateway's own words pass through as they are."""
    return _(text)
