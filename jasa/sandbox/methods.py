"""What the sandbox knows about methods: test cards, VA numbers, QRIS payloads, store codes, expiry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from jasa.payments.gateways.base import Method

ALL_METHODS = [m.value for m in Method]


def family(method: str) -> str:
    return Method(method).family


# Default time a payment stays payable, per method family (Midtrans' defaults).
EXPIRY = {
    "card": dt.timedelta(hours=24),
    "va": dt.timedelta(hours=24),
    "qris": dt.timedelta(minutes=15),
    "ewallet": dt.timedelta(minutes=15),
    "store": dt.timedelta(hours=24),
}
CHECKOUT_EXPIRY = dt.timedelta(hours=24)  # a hosted page before a method is chosen

# Refunds as Midtrans allows them: never for bank transfers and store payments.
REFUNDABLE = {"card": True, "va": False, "qris": True, "ewallet": True, "store": False}
PARTIAL_REFUND = {Method.CARD, Method.GOPAY, Method.DANA, Method.SHOPEEPAY}

# A refund of an amount ending in 666 fails (the documented "refund that fails").
REFUND_FAIL_SUFFIX = 666

LABELS = {
    Method.CARD: _("Credit or debit card"),
    Method.VA_BCA: _("BCA virtual account"),
    Method.VA_BNI: _("BNI virtual account"),
    Method.VA_BRI: _("BRI virtual account"),
    Method.VA_MANDIRI: _("Mandiri bill payment"),
    Method.VA_PERMATA: _("Permata virtual account"),
    Method.QRIS: _("QRIS"),
    Method.GOPAY: _("GoPay"),
    Method.OVO: _("OVO"),
    Method.DANA: _("DANA"),
    Method.SHOPEEPAY: _("ShopeePay"),
    Method.INDOMARET: _("Indomaret"),
    Method.ALFAMART: _("Alfamart"),
}


FAMILY_TITLES = {
    "card": _("Card"), "va": _("Bank transfer (virtual account)"), "qris": _("QRIS"), "ewallet": _("E-wallet"),
    "store": _("Convenience store"),
}


def grouped(values: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Methods grouped by family, in a fixed order, with their labels: [(family title, [(value, label)])]."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for value in values:
        groups.setdefault(family(value), []).append((value, str(LABELS[Method(value)])))
    return [(str(title), groups[f]) for f, title in FAMILY_TITLES.items() if f in groups]


@dataclasses.dataclass(frozen=True)
class TestCard:
    number: str
    outcome: str  # success | decline | insufficient | expired | 3ds
    brand: str
    label: str


TEST_CARDS = {
    c.number: c
    for c in (
        TestCard("4811111111111114", "success", "visa", "success"),
        TestCard("4911111111111113", "decline", "visa", "bank decline"),
        TestCard("4411111111111118", "insufficient", "visa", "insufficient funds"),
        TestCard("4511111111111117", "expired", "visa", "expired card"),
        TestCard("4000000000003220", "3ds", "visa", "3-D Secure challenge (OTP 112233)"),
    )
}
OTP = "112233"
MAX_OTP_ATTEMPTS = 3

CARD_FAILURES = {
    # stored in English on the payment; pages translate them with {% translate %}
    "decline": ("card_declined", gettext_noop("The bank declined the card.")),
    "insufficient": ("insufficient_funds", gettext_noop("The card has insufficient funds.")),
    "expired": ("expired_card", gettext_noop("The card has expired.")),
    "3ds_failed": ("authentication_failed", gettext_noop("3-D Secure authentication failed.")),
    "ewallet_declined": ("ewallet_declined", gettext_noop("The payment was declined in the e-wallet app.")),
}


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        checksum += d
    return checksum % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:4].isdigit() and 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith("35"):
        return "jcb"
    return "card"


# --- direct instruments -----------------------------------------------------------------------

VA_PREFIX = {  # bank code -> (prefix, total length)
    "bca": ("12345", 16),
    "bni": ("8808", 16),
    "bri": ("26215", 15),
    "permata": ("8778", 16),
    "mandiri": ("", 12),  # bill key; the biller code is MANDIRI_BILLER_CODE
}
MANDIRI_BILLER_CODE = "70012"
STORE_PREFIX = {"indomaret": "", "alfamart": "ALF"}


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _i in range(n))


def va_number(bank: str) -> str:
    prefix, length = VA_PREFIX[bank]
    return prefix + _digits(length - len(prefix))


def store_code(store: str) -> str:
    return STORE_PREFIX[store] + _digits(14 if store == "indomaret" else 12)


def bank_of(method: str) -> str:
    return method.removeprefix("va_")


# --- QRIS: an EMVCo merchant-presented payload with its CRC -------------------------------------


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def qris_payload(*, merchant_name: str, reference: str, amount: int) -> str:
    """A dynamic QRIS string (ID.CO.QRIS.WWW), amount in rupiah, ending in tag 63 with CRC16."""
    name = "".join(ch for ch in merchant_name.upper() if ch.isalnum() or ch == " ")[:25] or "JASA SANDBOX"
    body = (
        _tlv("00", "01")
        + _tlv("01", "12")  # dynamic: one payment
        + _tlv("26", _tlv("00", "ID.CO.QRIS.WWW") + _tlv("01", "936009990000000001") + _tlv("02", "SANDBOX"))
        + _tlv("52", "5734")
        + _tlv("53", "360")
        + _tlv("54", str(amount))
        + _tlv("58", "ID")
        + _tlv("59", name)
        + _tlv("60", "JAKARTA")
        + _tlv("62", _tlv("01", reference[:25]))
        + "6304"
    )
    return body + f"{crc16_ccitt(body.encode()):04X}"
