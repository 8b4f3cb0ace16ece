"""WhatsApp numbers in the international form (+62...), parsed with phonenumbers (region ID by default)."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _


def normalize_phone(raw: str, region: str = "ID") -> str:
    """'0812-3456-789' or '+62 812 3456 789' -> '+628123456789'; ValueError with a message a person can act on."""
    text = (raw or "").strip()
    if not text:
        raise ValueError(_("Enter a WhatsApp number, e.g. +628123456789."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(_("This is not a phone number. Use the form +628123456789."))
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("This phone number is not valid. Use the form +628123456789."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
