"""The portal's "Add a card": the button with its consent text per business whose gateway can save a card without
a payment, off to the gateway's page, and the return page (pending, saved, not saved) in both languages. Only the
client whose setup it is sees it; another client, the business's staff and anonymous visitors do not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from jasa.core import clock
from jasa.payments.gateways.base import SetupStatus
from jasa.payments.models import SavedMethodSetup, SavedPaymentMethod
from jasa.sandbox import services as sandbox
from jasa.sandbox.models import SandboxPayment

pytestmark = pytest.mark.django_db

METHODS = reverse("payments:portal_methods")


@pytest.fixture
def budi(workspace, client_factory, user_factory):
    """Budi, with a login, a client of `acme` (the sandbox is its gateway)."""
    return client_factory(workspace, name="Budi", email="budi@example.test", user=user_factory(email="budi@example.test"))


@pytest.fixture
def signed_in(client, budi):
    client.force_login(budi.user)
    return client


def _add_url(client_record) -> str:
    return reverse("payments:portal_method_add", args=[client_record.pk])


def _setup_url(setup) -> str:
    return reverse("payments:portal_method_setup", args=[setup.pk])


def _start(http, client_record, attempt="a1"):
    return http.post(_add_url(client_record), {"attempt": attempt})


def _type_card(setup, number="4811111111111114"):
    row = SandboxPayment.objects.get(reference=setup.reference)
    sandbox.payment_pay_card(row.pk, number=number, exp_month=12, exp_year=2030, cvc="123")


@pytest.mark.parametrize(("lang", "button", "consent"), [
    ("en", "Add a card for", "may charge it for later payments you agreed to"),
    ("id", "Tambahkan kartu untuk", "boleh menagihnya untuk pembayaran berikutnya yang Anda setujui"),
])
def test_methods_page_offers_adding_a_card_with_the_consent(signed_in, budi, lang, button, consent):
    html = signed_in.get(METHODS, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert f'id="add-card-{budi.workspace.slug}"' in html and f'action="{_add_url(budi)}"' in html
    assert f"{button} {budi.workspace.name}" in html and consent in html


def test_no_button_where_the_gateway_cannot(client, ws, client_factory, user_factory, workspace_factory):
    """acme's gateway (the in-test one) saves cards only while paying; Beta's sandbox can."""
    user = user_factory(email="sari@example.test")
    client_factory(ws, user=user, email=user.email)
    beta = client_factory(workspace_factory(slug="beta", name="Beta Studio"), user=user, email=user.email)
    client.force_login(user)
    html = client.get(METHODS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="add-card-acme"' not in html and 'id="add-card-beta"' in html
    assert f'action="{_add_url(beta)}"' in html


def test_add_goes_to_the_gateways_page_once(signed_in, budi):
    response = _start(signed_in, budi)
    setup = SavedMethodSetup.objects.get()
    assert response.status_code == 302 and response["Location"] == setup.redirect_url
    assert "/sandbox/checkout/" in setup.redirect_url and setup.client == budi
    assert _start(signed_in, budi)["Location"] == setup.redirect_url  # a double click: the same setup
    assert SavedMethodSetup.objects.count() == 1


def test_add_is_a_post(signed_in, budi):
    assert signed_in.get(_add_url(budi)).status_code == 405
    assert not SavedMethodSetup.objects.exists()


def test_nobody_adds_a_card_for_someone_elses_client_record(client, budi, user_factory):
    client.force_login(user_factory(email="eve@example.test"))
    assert _start(client, budi).status_code == 404
    assert not SavedMethodSetup.objects.exists()


def test_anonymous_is_sent_to_log_in(client, budi):
    response = _start(client, budi)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_business_that_cannot_says_so(signed_in, budi):
    from jasa.payments.services_config import gateway_account_save

    gateway_account_save(workspace=budi.workspace, gateway="sandbox", is_default=True, enabled_methods=["qris"])
    response = signed_in.post(_add_url(budi), {"attempt": "a1"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[-1][0] == METHODS
    assert "cannot save a card without a payment" in response.content.decode()


@pytest.mark.parametrize(("lang", "waiting", "continue_"), [
    ("en", "Waiting for the payment gateway to confirm your card", "Continue on the payment gateway's page"),
    ("id", "Menunggu payment gateway mengonfirmasi kartu Anda", "Lanjutkan di halaman payment gateway"),
])
def test_pending_page_polls_and_links_back_to_the_gateway(signed_in, budi, lang, waiting, continue_):
    _start(signed_in, budi)
    setup = SavedMethodSetup.objects.get()
    html = signed_in.get(_setup_url(setup), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert 'data-status="pending"' in html and "hx-get=" in html
    assert waiting in html and continue_ in html and setup.redirect_url in html


@pytest.mark.parametrize(("lang", "saved", "charge"), [
    ("en", "Visa •••• 1114 is saved for", "may charge it for later payments you agreed to"),
    ("id", "Visa •••• 1114 tersimpan untuk", "boleh menagihnya untuk pembayaran berikutnya yang Anda setujui"),
])
def test_back_from_the_gateway_the_card_is_saved(signed_in, budi, lang, saved, charge):
    _start(signed_in, budi)
    setup = SavedMethodSetup.objects.get()
    _type_card(setup)
    html = signed_in.get(_setup_url(setup), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert 'data-status="succeeded"' in html and "hx-get=" not in html  # final: no more polling
    assert f"{saved} {budi.workspace.name}" in html and charge in html and "12/30" in html
    method = SavedPaymentMethod.objects.get(client=budi)
    listing = signed_in.get(METHODS, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert f'id="method-{method.pk}"' in listing


@pytest.mark.parametrize(("lang", "title", "reason", "next_step"), [
    ("en", "The card was not saved", "The bank declined the card.", "Nothing was charged. You can try again"),
    ("id", "Kartu tidak disimpan", "Bank menolak kartu ini.", "Tidak ada yang ditagih. Anda dapat mencoba lagi"),
])
def test_a_declined_card_says_why_and_what_next(signed_in, budi, lang, title, reason, next_step):
    _start(signed_in, budi)
    setup = SavedMethodSetup.objects.get()
    _type_card(setup, "4911111111111113")
    html = signed_in.get(_setup_url(setup), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert 'data-status="failed"' in html and title in html and reason in html and next_step in html
    assert 'id="setup-try-again"' in html
    assert not SavedPaymentMethod.objects.exists()


def test_an_abandoned_setup_says_the_page_expired(signed_in, budi, frozen_clock):
    _start(signed_in, budi)
    setup = SavedMethodSetup.objects.get()
    clock.advance(dt.timedelta(hours=2))
    html = signed_in.get(_setup_url(setup), HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert 'data-status="expired"' in html and "halaman sudah kedaluwarsa" in html
    setup.refresh_from_db()
    assert setup.status == SetupStatus.EXPIRED


def test_the_poll_fragment_follows_the_gateway(signed_in, budi):
    _start(signed_in, budi)
    setup = SavedMethodSetup.objects.get()
    poll = reverse("payments:portal_method_setup_poll", args=[setup.pk])
    assert 'data-status="pending"' in signed_in.get(poll).content.decode()
    _type_card(setup)
    fragment = signed_in.get(poll).content.decode()
    assert fragment.startswith('<section id="setup-status" data-status="succeeded"') and "<html" not in fragment


def test_nobody_else_sees_or_finishes_someones_setup(client, signed_in, budi, client_factory, user_factory,
                                                    member_factory):
    _start(signed_in, budi)
    setup = SavedMethodSetup.objects.get()
    _type_card(setup)  # finished at the gateway, not yet read by jasa
    poll = reverse("payments:portal_method_setup_poll", args=[setup.pk])
    eve = user_factory(email="eve@example.test")
    client_factory(budi.workspace, user=eve, email=eve.email)  # a client of the same business
    owner = member_factory(budi.workspace, role="owner").user  # and its staff
    for user in (eve, owner):
        client.force_login(user)
        assert client.get(_setup_url(setup)).status_code == 404
        assert client.get(poll).status_code == 404
    client.logout()
    assert client.get(_setup_url(setup)).status_code == 302  # to log in
    setup.refresh_from_db()
    assert setup.status == SetupStatus.PENDING and not SavedPaymentMethod.objects.exists()  # none of them read it
