"""The client's saved payment methods in the portal, and the consent to save a card on the pay page.

The portal lists a signed-in user's methods with every business where they are a client, flags expired
cards, and removes one on a confirmed CSRF POST (also telling the gateway when its adapter can). Nobody
else's method is visible or removable: other clients, the business's own members, anonymous visitors.
The pay page offers "save this card" only when the gateway can keep cards; a consultation deposit whose
offer charges the balance on a no-show says so, and that saved card then pays a no-show's balance.
"""

# ruff: noqa: F811 - pytest fixtures imported from tests.sandbox.fixtures and tests.bookings.conftest
from __future__ import annotations

import datetime as dt
from typing import ClassVar

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from jasa.core import clock
from jasa.core.models import AuditEntry
from jasa.payments.gateways import base
from jasa.payments.gateways.base import Capabilities, Method
from jasa.payments.models import PaymentIntent, SavedPaymentMethod
from jasa.payments.views_client import pay_token
from tests.bookings.conftest import THU_9, offer_factory, staff  # noqa: F401 - fixtures
from tests.payments.fakegw import FakeGateway
from tests.sandbox.fixtures import merchant  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

LIST = reverse("payments:portal_methods")


def _remove_url(saved) -> str:
    return reverse("payments:portal_method_remove", args=[saved.pk])


@pytest.fixture
def saved_factory(frozen_clock):
    counter = {"n": 0}

    def make(client, **fields):
        counter["n"] += 1
        defaults = {"gateway": "testpay", "token": f"tok-{counter['n']}", "method": "card", "brand": "visa",
                    "masked": "481111******1114", "expiry_month": 12, "expiry_year": 2030,
                    "consent_at": clock.now()}
        return SavedPaymentMethod.objects.create(workspace=client.workspace, client=client, **{**defaults, **fields})

    return make


@pytest.fixture
def buyer(ws, client_factory, user_factory):
    """Budi: a client of `acme` (whose gateway is the in-test one) with a login."""
    return client_factory(ws, name="Budi", email="budi@example.test", user=user_factory(email="budi@example.test"))


def _page(http, url=LIST, lang="en") -> str:
    response = http.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


def test_lists_the_users_methods_with_every_business(client, buyer, saved_factory, workspace_factory,
                                                     client_factory):
    other_business = workspace_factory(slug="beta", name="Beta Studio")
    mine = saved_factory(buyer)
    elsewhere = saved_factory(client_factory(other_business, user=buyer.user, email=buyer.email),
                              brand="mastercard", masked="5555", expiry_month=3, expiry_year=28)
    stranger = saved_factory(client_factory(buyer.workspace), masked="400000******3220")
    removed = saved_factory(buyer, masked="401288******1881")
    removed.is_active = False
    removed.save()
    client.force_login(buyer.user)
    html = _page(client)
    assert f'id="method-{mine.pk}"' in html and f'id="method-{elsewhere.pk}"' in html
    assert buyer.workspace.name in html and "Beta Studio" in html
    assert "Visa •••• 1114" in html and "Mastercard •••• 5555" in html and "12/30" in html and "03/28" in html
    assert '<time datetime="2026-12-02T' in html  # when consent was given (the frozen clock's day)
    assert "Later payments to" in html  # what it may be used for
    assert "3220" not in html and f"method-{stranger.pk}" not in html  # another client's card
    assert "1881" not in html  # a removed one
    assert _remove_url(mine) in html
    # the portal links to the page, in each business's section
    portal = _page(client, reverse("web:portal"))
    assert portal.count(f'href="{LIST}"') == 2


def test_expired_cards_are_flagged(client, buyer, saved_factory):
    expired = saved_factory(buyer, expiry_month=11, expiry_year=2026)  # the clock stands in December 2026
    current = saved_factory(buyer, expiry_month=12, expiry_year=2026, masked="555555******4444")
    client.force_login(buyer.user)
    response = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    rows = {row["method"].pk: row for row in response.context["rows"]}
    assert rows[expired.pk]["expired"] and not rows[current.pk]["expired"]
    html = response.content.decode()
    assert html.count("Expired:") == 1
    assert html.index("Expired:") > html.index(f'id="method-{expired.pk}"')
    assert "Kedaluwarsa" in _page(client, lang="id")


def test_remove_asks_then_removes_and_tells_the_gateway(client, buyer, saved_factory, monkeypatch):
    forgotten: list[str] = []
    monkeypatch.setattr(FakeGateway, "forget_saved_method", lambda self, token: forgotten.append(token),
                        raising=False)
    saved = saved_factory(buyer)
    client.force_login(buyer.user)
    confirm = _page(client, _remove_url(saved))
    assert "Visa •••• 1114" in confirm and "csrfmiddlewaretoken" in confirm and "pay by link" in confirm
    saved.refresh_from_db()
    assert saved.is_active  # asking changes nothing
    response = client.post(_remove_url(saved), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    html = response.content.decode()
    assert "Visa •••• 1114 was removed" in html and "pay by link" in html
    assert f'id="method-{saved.pk}"' not in html and 'id="no-saved-methods"' in html
    saved.refresh_from_db()
    assert not saved.is_active and saved.removed_at == clock.now()
    assert forgotten == [saved.token]
    assert AuditEntry.objects.filter(action="saved_method.remove", object_id=str(saved.pk)).exists()
    # removed: it no longer exists for the page
    assert client.post(_remove_url(saved)).status_code == 404


def test_remove_works_when_the_gateway_cannot_delete_tokens(client, buyer, saved_factory):
    saved = saved_factory(buyer)
    client.force_login(buyer.user)
    response = client.post(_remove_url(saved), HTTP_ACCEPT_LANGUAGE="id", follow=True)
    assert "dihapus" in response.content.decode()
    saved.refresh_from_db()
    assert not saved.is_active


def test_remove_needs_the_csrf_token(buyer, saved_factory):
    saved = saved_factory(buyer)
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(buyer.user)
    assert http.post(_remove_url(saved)).status_code == 403
    saved.refresh_from_db()
    assert saved.is_active


def test_another_clients_method_does_not_exist(client, buyer, saved_factory, client_factory, user_factory):
    theirs = saved_factory(client_factory(buyer.workspace, user=user_factory()))
    client.force_login(buyer.user)
    assert client.get(_remove_url(theirs)).status_code == 404
    assert client.post(_remove_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "finance"])
def test_the_business_members_cannot_see_or_remove_a_clients_method(client, buyer, saved_factory, member_factory,
                                                                    role):
    """The portal is the client's own: even the business's owner manages methods through the API, not here."""
    saved = saved_factory(buyer)
    if role == "owner":
        from jasa.accounts.models import Membership

        user = Membership.objects.get(workspace=buyer.workspace, role="owner").user
    else:
        user = member_factory(buyer.workspace, role=role).user
    client.force_login(user)
    assert f"method-{saved.pk}" not in _page(client)
    assert client.get(_remove_url(saved)).status_code == 404
    assert client.post(_remove_url(saved)).status_code == 404
    saved.refresh_from_db()
    assert saved.is_active


def test_anonymous_is_sent_to_log_in(client, buyer, saved_factory):
    saved = saved_factory(buyer)
    for response in (client.get(LIST), client.get(_remove_url(saved)), client.post(_remove_url(saved))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    saved.refresh_from_db()
    assert saved.is_active


# --- consent on the pay page ----------------------------------------------------------------------


def _pay_path(invoice) -> str:
    return reverse("payments:pay", args=[invoice.pk]) + f"?t={pay_token(invoice)}"


class NoSavePay(FakeGateway):
    """A gateway that takes cards but cannot keep them (like Xendit's cards in jasa)."""

    name: ClassVar[str] = "nosavepay"
    methods: ClassVar[dict[Method, Capabilities]] = {**FakeGateway.methods, Method.CARD: Capabilities()}


@pytest.fixture
def nosavepay(fakegw):
    base.register(NoSavePay)
    yield NoSavePay
    base._registry.pop(NoSavePay.name, None)


def test_save_card_box_only_where_the_gateway_can_keep_cards(client, ws, invoice_factory, nosavepay):
    from jasa.payments.services_config import gateway_account_save

    invoice = invoice_factory(ws, 250_000)
    html = _page(client, _pay_path(invoice))
    assert 'name="save_method"' in html and "checked" not in html.split('id="save-method"')[1].split(">")[0]
    assert f"Save this card so {ws.name} can charge it later" in html
    assert "miss the session" not in html
    assert "Simpan kartu ini" in _page(client, _pay_path(invoice), lang="id")
    # card switched off for this business: nothing to save
    gateway_account_save(workspace=ws, gateway="testpay", enabled_methods=["va_bca", "qris"], is_default=True)
    assert 'name="save_method"' not in _page(client, _pay_path(invoice))
    # a gateway whose cards cannot be kept
    gateway_account_save(workspace=ws, gateway="nosavepay", credentials={"key": "k"}, is_default=True)
    html = _page(client, _pay_path(invoice))
    assert 'value="card"' in html and 'name="save_method"' not in html


@pytest.mark.parametrize(("method", "ticked", "saved"), [
    ("card", True, True), ("card", False, False), ("va_bca", True, False), ("", True, True), ("", False, False),
])
def test_the_box_is_passed_on_for_a_card_or_the_gateways_choice(client, ws, invoice_factory, method, ticked, saved):
    """Choosing on the payment page passes the consent on too (card is among the gateway's methods); the
    gateway keeps a card only if the client pays by card there (tests/payments/test_pay_hosted_save_card.py)."""
    invoice = invoice_factory(ws, 250_000)
    data = {"method": method, "attempt": f"a-{method}"} | ({"save_method": "1"} if ticked else {})
    assert client.post(_pay_path(invoice), data).status_code == 302
    payment = PaymentIntent.objects.get(invoice=invoice)
    assert payment.save_method is saved
    assert FakeGateway.world[payment.reference].get("saved_method") is not None if saved and method else True


def test_a_forged_box_for_a_gateway_that_cannot_keep_cards_is_ignored(client, ws, invoice_factory, nosavepay):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=ws, gateway="nosavepay", credentials={"key": "k"}, is_default=True)
    invoice = invoice_factory(ws, 250_000)
    response = client.post(_pay_path(invoice), {"method": "card", "save_method": "1", "attempt": "x"})
    assert response.status_code == 302
    assert PaymentIntent.objects.get(invoice=invoice).save_method is False


# --- a consultation deposit whose offer charges the balance on a no-show, through the sandbox ---------


@pytest.fixture
def sandbox_booking(workspace, merchant, offer_factory, frozen_clock, django_capture_on_commit_callbacks):
    from jasa.bookings.services import booking_hold
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=workspace, gateway="sandbox", credentials=merchant.credentials, is_default=True)

    def make(*, no_show_charges_balance: bool):
        offer = offer_factory(name_id="Ketat" if no_show_charges_balance else "Longgar",
                              no_show_charges_balance=no_show_charges_balance)
        with django_capture_on_commit_callbacks(execute=True):
            return booking_hold(offer=offer, start=THU_9, client_name="Rina", client_email="rina@example.test")

    return make


def test_the_consent_text_names_the_no_show_balance(client, sandbox_booking):
    booking = sandbox_booking(no_show_charges_balance=True)
    html = _page(client, _pay_path(booking.deposit_invoice))
    assert "to charge the remaining balance (IDR 400,000) if you miss the session" in html
    html_id = _page(client, _pay_path(booking.deposit_invoice), lang="id")
    assert "sisa tagihan (Rp" in html_id and "400.000" in html_id and "tidak hadir" in html_id


def test_a_deposit_without_the_no_show_policy_gets_the_plain_text(client, sandbox_booking):
    booking = sandbox_booking(no_show_charges_balance=False)
    html = _page(client, _pay_path(booking.deposit_invoice))
    assert 'name="save_method"' in html and "miss the session" not in html


def test_card_saved_at_the_deposit_pays_the_no_show_balance(client, sandbox_booking, django_capture_on_commit_callbacks):
    """Pay page, box ticked, card on the sandbox's page: the sandbox issues a token, jasa keeps it with the
    consent time, the portal shows what it is for, and the no-show's balance is charged to it off-session."""
    from jasa.bookings.models import BookingStatus
    from jasa.sandbox.models import SandboxPayment

    booking = sandbox_booking(no_show_charges_balance=True)
    deposit = booking.deposit_invoice
    response = client.post(_pay_path(deposit), {"method": "card", "save_method": "1", "attempt": "deposit"})
    payment = PaymentIntent.objects.get(invoice=deposit, idempotency_key__startswith="pay:")
    assert payment.save_method
    checkout = response["Location"].split("127.0.0.1:8000", 1)[-1]
    client.post(checkout + "card/", {"number": "4811 1111 1111 1114", "expiry": "12/30", "cvc": "123"})
    assert SandboxPayment.objects.get(reference=payment.reference).token is not None  # the sandbox issued one
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("payments:pay_status", args=[deposit.pk, payment.pk]) + f"?t={pay_token(deposit)}")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    saved = SavedPaymentMethod.objects.get(client=booking.client)
    payment.refresh_from_db()
    assert saved.token.startswith("tok_") and saved.masked.endswith("1114") and saved.consent_at == payment.created_at

    client.force_login(_user_for(booking.client))
    html = _page(client)
    assert "The remaining balance of a consultation if you miss the session" in html

    assert_no_show_paid_by(booking, saved, django_capture_on_commit_callbacks)


def assert_no_show_paid_by(booking, saved, capture_on_commit) -> None:
    """The client misses the session: the balance is charged off-session to ``saved``, and paid."""
    from jasa.bookings.services import booking_mark_no_show

    clock.advance(THU_9 + dt.timedelta(minutes=20) - clock.now())
    with capture_on_commit(execute=True):
        booking = booking_mark_no_show(booking=booking)
    balance = booking.balance_invoice
    balance.refresh_from_db()
    charge = balance.payments.get()
    assert charge.saved_method_id == saved.pk and charge.off_session
    assert balance.status == "paid"


def _user_for(client_record):
    """The client's login: a booking links the account of that email, or the client signs up later."""
    from django.contrib.auth import get_user_model

    client_record.refresh_from_db()
    if client_record.user is None:
        client_record.user = get_user_model().objects.create_user(email=client_record.email, password="pw-secret-1")
        client_record.save(update_fields=["user"])
    return client_record.user
