"""The client's consent, at the booking checkout, to keep their card for later charges.

The checkout sends the client to the gateway's hosted page, where they pick the method, so the box is
offered whenever the business's gateway can keep cards and card is one of its enabled methods (as on the
invoice pay page; the text is the pay page's, from payments/client/_save_card.html). When the offer
charges the balance on a no-show, the text names that balance: it is what the saved card is for. Ticking it
is only a wish: the gateway saves the card when the client does pay by card (the sandbox and Snap keep no
VA or e-wallet), and jasa keeps it with the payment's start as the moment of consent.
"""

from __future__ import annotations

from collections.abc import Mapping

from jasa.payments.services_methods import card_saving_offered, no_show_balance


def save_card_context(booking, language: str) -> dict:
    """The template context of the consent box for this booking's deposit; empty when it is not offered."""
    if booking.deposit_invoice_id is None or not card_saving_offered(booking.workspace):
        return {}
    balance = no_show_balance(booking.deposit_invoice)
    return {"offer_save_card": True, "no_show_balance": balance.format(language) if balance else ""}


def card_save_wanted(booking, form: Mapping[str, str]) -> bool:
    """The client ticked the box, and the box is offered (a forged field for a gateway that cannot keep
    cards is ignored)."""
    return (form.get("save_method") == "1" and booking.deposit_invoice_id is not None
            and card_saving_offered(booking.workspace))
