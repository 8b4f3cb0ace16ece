"""The cancellation message of a deposit paid by VA (which the gateway cannot refund) says how much is
refunded, that it goes by bank transfer to the client's account, whether that account is still needed (with
the link) or given, and when to expect it when the workspace's refund policy says; recording the transfer
sends the refund receipt. The rendered words are checked in both languages."""

from __future__ import annotations

import pytest

from jasa.bookings import messages
from jasa.bookings.links import manage_url
from jasa.bookings.services import booking_cancel, booking_refund_account
from jasa.core.money import Money
from jasa.notifications.models import OutboxMessage
from jasa.notifications.rendering import render
from jasa.payments.gateways.base import Method
from jasa.payments.models import Refund
from jasa.payments.services import refund_record_manual
from tests.bookings.conftest import FRI_9

pytestmark = pytest.mark.django_db

TEXTS = {
    "en": {
        "owed": "{amount} of your deposit will be refunded by bank transfer to your bank account (your payment "
                "method cannot be refunded automatically).",
        "need": "We still need your bank account: please give it here: {url}",
        "have": "We have your bank account and will transfer it to BCA ****7890.",
        "when": "When to expect it, by our refund policy: Refunds are transferred within 3 working days.",
        "wa_owed": "{amount} by bank transfer to your bank account.",
        "receipt": "Acme refunded {amount} of invoice {invoice} to you by bank transfer.",
    },
    "id": {
        "owed": "{amount} dari uang muka Anda akan dikembalikan melalui transfer bank ke rekening bank Anda "
                "(metode pembayaran Anda tidak dapat dikembalikan secara otomatis).",
        "need": "Kami masih memerlukan rekening bank Anda: silakan isi di sini: {url}",
        "have": "Kami sudah menerima rekening bank Anda dan akan mentransfernya ke BCA ****7890.",
        "when": "Kapan dana diterima, menurut kebijakan pengembalian dana kami: Dana dikembalikan dalam 3 hari kerja.",
        "wa_owed": "{amount} melalui transfer bank ke rekening bank Anda.",
        "receipt": "Acme telah mengembalikan dana {amount} dari tagihan {invoice} kepada Anda melalui transfer bank.",
    },
}


@pytest.fixture
def policy(workspace):
    workspace.name = "Acme"
    workspace.refund_policy_en = "Refunds are transferred\nwithin 3 working days."
    workspace.refund_policy_id = "Dana dikembalikan dalam 3 hari kerja."
    workspace.save()
    return workspace


def _cancel_va(hold, pay, language, django_capture_on_commit_callbacks):
    booking = pay(hold(start=FRI_9, language=language), method=Method.VA_BCA)
    with django_capture_on_commit_callbacks(execute=True):
        return booking_cancel(booking=booking, by="client")


def _rendered(booking, channel, template="bookings.cancelled"):
    message = OutboxMessage.objects.filter(template=template, channel=channel,
                                           dedupe_key__contains=str(booking.pk)).latest("created_at")
    return render(message)


@pytest.mark.parametrize("language", ["en", "id"])
def test_cancelled_va_deposit_says_transfer_amount_account_link_and_when(hold, pay, policy, language,
                                                                        django_capture_on_commit_callbacks):
    texts = TEXTS[language]
    booking = _cancel_va(hold, pay, language, django_capture_on_commit_callbacks)
    amount, url = Money(100_000).format(language), manage_url(booking)
    email = _rendered(booking, "email")
    for part in (texts["owed"].format(amount=amount), texts["need"].format(url=url), texts["when"]):
        assert part in email.text, part
    assert texts["when"].split(": ", 1)[0] in email.html and url in email.html
    assert Money(0).format(language) not in email.text  # no "Refunded: Rp 0" any more
    [name, offer, start, refund_line] = _rendered(booking, "whatsapp").whatsapp_params
    assert name == booking.client.name
    assert refund_line.startswith(texts["wa_owed"].format(amount=amount))
    assert texts["need"].format(url=url) in refund_line and texts["when"] in refund_line
    staff = _rendered(booking, "email", "bookings.staff_cancelled")
    # the staff member (Indonesian) learns the business owes a transfer
    assert f"Terutang melalui transfer bank (catat di janji temu setelah dikirim): {Money(100_000).format('id')}" \
        in staff.text

    # The client gives the account; a message built now says it is known (no link).
    booking_refund_account(booking=booking, bank_name="BCA", account_number="1234567890", account_holder="Sari")
    OutboxMessage.objects.filter(template="bookings.cancelled").delete()
    messages.booking_cancelled(booking, Money.zero("IDR"))
    email = _rendered(booking, "email")
    assert texts["have"] in email.text and url not in email.text
    assert texts["have"] in _rendered(booking, "whatsapp").whatsapp_params[3]


@pytest.mark.parametrize("language", ["en", "id"])
def test_recorded_transfer_sends_the_refund_receipt(hold, pay, policy, language, django_capture_on_commit_callbacks):
    booking = _cancel_va(hold, pay, language, django_capture_on_commit_callbacks)
    booking_refund_account(booking=booking, bank_name="BCA", account_number="1234567890", account_holder="Sari")
    owed = Refund.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        refund_record_manual(payment=owed.payment, amount=owed.amount, reason=owed.reason,
                             transfer_reference="BCA-TRF-77", refund_key=owed.refund_key)
    [receipt] = OutboxMessage.objects.filter(template="payments.refund_receipt")
    assert receipt.recipient == booking.client.email and receipt.language == language
    text = render(receipt).text
    assert TEXTS[language]["receipt"].format(amount=Money(100_000).format(language),
                                             invoice=booking.deposit_invoice.number) in text
    assert "****7890" in text and "BCA-TRF-77" in text


def test_card_deposit_and_no_policy_keep_the_plain_refund_line(hold, pay, workspace,
                                                              django_capture_on_commit_callbacks):
    booking = pay(hold(start=FRI_9, language="en"))
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, by="client")
    text = _rendered(booking, "email").text
    assert f"Refunded: {Money(100_000).format('en')}" in text and "bank transfer" not in text
    assert _rendered(booking, "whatsapp").whatsapp_params[3] == Money(100_000).format("en")
    # a VA deposit in a workspace without a refund policy: no promise of when
    va = _cancel_va(hold, pay, "en", django_capture_on_commit_callbacks)
    text = _rendered(va, "email").text
    assert "bank transfer" in text and "When to expect it" not in text
