"""The client's own saved payment methods: what the portal shows them, and removing one.

``services.saved_method_remove`` stops jasa from charging a method. The gateway still holds the token
and would charge it for anyone who asks with the business's keys, so removing it for the client also
asks the gateway to forget it, after jasa's row is marked removed and committed (never a gateway call
under a row lock). An adapter offers that with ``forget_saved_method(token)``; one without it keeps the
token at the gateway, unused (jasa never charges an inactive method).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.apps import apps
from django.db.models import QuerySet

from jasa.core import clock
from jasa.core.errors import JasaError
from jasa.core.money import Money
from jasa.payments.connect import account_for, default_gateway_name, gateway_for
from jasa.payments.gateways.base import (
    GatewayDeclined,
    GatewayError,
    Method,
    forgets_saved_methods,
    gateway_class,
    saves_without_payment,
)
from jasa.payments.models import PAID_STATUSES, Invoice, PaymentIntent, SavedPaymentMethod
from jasa.payments.services import saved_method_remove

log = logging.getLogger(__name__)


# --- reads ----------------------------------------------------------------------------------------


def client_saved_methods(user) -> QuerySet[SavedPaymentMethod]:
    """The active methods the signed-in user saved, with every business where they are a client."""
    return (SavedPaymentMethod.objects.filter(client__user=user, is_active=True)
            .select_related("workspace", "client").order_by("workspace__name", "-consent_at"))


def no_show_balance(invoice: Invoice) -> Money | None:
    """The balance a consultation's no-show would charge, when ``invoice`` is the deposit of a booking whose
    offer charges it (jasa.bookings links the booking by ``deposit_invoice``); otherwise None."""
    if not invoice.source.startswith("booking:") or not apps.is_installed("jasa.bookings"):
        return None
    booking_model = apps.get_model("bookings", "Booking")
    booking = (booking_model.objects.filter(workspace_id=invoice.workspace_id, deposit_invoice=invoice,
                                            offer__no_show_charges_balance=True).first())
    return booking.balance if booking is not None else None


def saved_method_origin(saved: SavedPaymentMethod) -> PaymentIntent | None:
    """The payment at which the client gave consent: the method's ``consent_at`` is that payment's start."""
    return (PaymentIntent.objects.filter(workspace_id=saved.workspace_id, invoice__client_id=saved.client_id,
                                         save_method=True, created_at=saved.consent_at, status__in=PAID_STATUSES)
            .select_related("invoice").first())


def saved_method_for_no_show(saved: SavedPaymentMethod) -> bool:
    """True when the client saved it paying a deposit whose offer charges the balance on a no-show."""
    origin = saved_method_origin(saved)
    return origin is not None and no_show_balance(origin.invoice) is not None


def is_expired(saved: SavedPaymentMethod) -> bool:
    """A card is valid through the last day of its expiry month."""
    if not saved.expiry_month or not saved.expiry_year:
        return False
    year = saved.expiry_year + 2000 if saved.expiry_year < 100 else saved.expiry_year
    today = clock.now().date()
    return (year, saved.expiry_month) < (today.year, today.month)


def usable_saved_method(*, workspace_id, client_id) -> SavedPaymentMethod | None:
    """The method to charge off-session for this client of this business: the latest consent among their
    active methods whose card has not expired (an expired card is only declined, so it is not tried)."""
    found = (SavedPaymentMethod.objects.filter(workspace_id=workspace_id, client_id=client_id, is_active=True)
             .order_by("-consent_at"))
    return next((saved for saved in found if not is_expired(saved)), None)


def can_save_card(gateway: str, methods: list[str]) -> bool:
    """The gateway's adapter can keep a card for later charges, and card is one of the offered methods."""
    caps = gateway_class(gateway).methods.get(Method.CARD)
    return Method.CARD.value in methods and caps is not None and caps.save_for_recurring


def offered_methods(workspace) -> tuple[str, list[str]]:
    """The business's default gateway and the methods a client may pay with there (its adapter's methods,
    narrowed to those the business enabled)."""
    gateway = default_gateway_name(workspace)
    account = account_for(workspace, gateway)
    enabled = account.enabled_methods if account is not None else []
    return gateway, [m.value for m in gateway_class(gateway).methods if not enabled or m.value in enabled]


def card_saving_offered(workspace) -> bool:
    """A checkout where the client picks the method on the gateway's page may ask to save the card."""
    return can_save_card(*offered_methods(workspace))


def card_setup_offers(user) -> list:
    """The user's client records at the businesses where they can add a card without paying (the portal)."""
    from jasa.accounts.selectors import client_records

    return [client for client in client_records(user) if setup_gateway(client.workspace) is not None]


def setup_gateway(workspace) -> str | None:
    """The gateway where a client of this business can save a card without paying (services_setup): the
    business's default gateway, when its adapter can (gateways.base.SavesWithoutPayment) and card is enabled."""
    gateway, methods = offered_methods(workspace)
    if Method.CARD.value not in methods or not saves_without_payment(gateway_class(gateway)):
        return None
    return gateway


# --- writes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removed:
    saved: SavedPaymentMethod
    gateway_forgot: bool  # False: the adapter cannot delete tokens, or the gateway did not answer


def saved_method_remove_for_client(saved: SavedPaymentMethod) -> Removed:
    """Remove the method in jasa (audited), then ask the gateway to delete its token, best effort."""
    saved = saved_method_remove(saved)
    return Removed(saved=saved, gateway_forgot=_gateway_forget(saved))


def _gateway_forget(saved: SavedPaymentMethod) -> bool:
    try:
        adapter = gateway_for(saved.workspace, saved.gateway)
    except JasaError as exc:  # the business may since have removed or switched off that gateway
        log.warning("saved method %s: gateway %s not set up, token kept there: %s", saved.pk, saved.gateway, exc)
        return False
    if not forgets_saved_methods(adapter):
        return False
    try:
        adapter.forget_saved_method(saved.token)
    except (GatewayError, GatewayDeclined) as exc:
        log.warning("saved method %s: %s did not delete the token: %s", saved.pk, saved.gateway, exc)
        return False
    return True
