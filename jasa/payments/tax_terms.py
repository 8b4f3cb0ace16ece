"""The terms of a PPN line (label, rate, tax base), written into the line when an invoice is issued and read
back by the invoice and receipt documents.

An issued invoice shows the terms it was charged on, not today's TaxSettings: a business that moved from
"PPN 11%" to "PPN 12% × 11/12" charges the same amount but its old invoices must keep saying 11 %. The line's
description is that record, so the format is written and parsed here, in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

from jasa.core.money import Money

_STORED = re.compile(r"^(?P<label>.+?) (?P<rate>\d+(?:\.\d+)?)%(?: × (?P<num>\d+)/(?P<den>\d+))?$")


@dataclass(frozen=True)
class TaxTerms:
    label: str  # the business's own word for the tax, usually "PPN"
    rate: Decimal  # percent
    numerator: int = 1  # tax base (DPP, dasar pengenaan pajak) as a fraction of the price
    denominator: int = 1

    @classmethod
    def of(cls, tax_settings) -> TaxTerms:
        return cls(tax_settings.label, Decimal(tax_settings.rate_percent), tax_settings.base_numerator,
                   tax_settings.base_denominator)

    @classmethod
    def parse(cls, description: str) -> TaxTerms | None:
        """The terms of a line written by :meth:`describe`; None for a tax line typed in by hand."""
        found = _STORED.match(description.strip())
        if found is None or not found["label"].strip():
            return None
        num, den = int(found["num"] or 1), int(found["den"] or 1)
        if den == 0 or num > den:
            return None
        return cls(found["label"].strip(), Decimal(found["rate"]), num, den)

    @property
    def partial_base(self) -> bool:
        return self.numerator != self.denominator

    def describe(self) -> str:
        """The stored description, in no language: "PPN 12% × 11/12" (or "PPN 11%" on the full price)."""
        base = f" × {self.numerator}/{self.denominator}" if self.partial_base else ""
        return f"{self.label} {self._rate('en')}%{base}"

    def tax_base(self, price: Money) -> Money:
        """The DPP of ``price``: the part of it the rate applies to."""
        return price.scale(Fraction(self.numerator, self.denominator))

    def row_label(self, price: Money, language: str) -> str:
        """The PPN row of a document in the active language: "PPN 12% (DPP 11/12 = Rp 1.375.000)"."""
        if not self.partial_base:
            return _("%(label)s %(rate)s%%") % {"label": self.label, "rate": self._rate(language)}
        return _("%(label)s %(rate)s%% (tax base %(fraction)s = %(base)s)") % {
            "label": self.label, "rate": self._rate(language), "fraction": f"{self.numerator}/{self.denominator}",
            "base": self.tax_base(price).format(language),
        }

    def _rate(self, language: str) -> str:
        text = f"{self.rate.normalize():f}"
        return text.replace(".", ",") if language == "id" else text
