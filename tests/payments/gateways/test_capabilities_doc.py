"""docs/gateways.md's capabilities table is the adapters' ``methods`` tables, rendered: it cannot drift.

When an adapter's capabilities change, this test fails and prints the table to paste between the markers."""

from __future__ import annotations

import pathlib

from jasa.payments.gateways.base import Capabilities, Method, gateway_class, gateway_names

DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "gateways.md"
START = "<!-- capabilities: rendered from each adapter's `methods`; tests/payments/gateways/test_capabilities_doc.py -->"
END = "<!-- /capabilities -->"
GATEWAYS = ("sandbox", "midtrans", "xendit", "stripe")
FLAGS = (("refund", "refund"), ("partial_refund", "partial"), ("save_for_recurring", "save"),
         ("off_session", "off-session"))


def _cell(caps: Capabilities | None) -> str:
    if caps is None:
        return "—"  # the gateway does not offer the method
    return " · ".join(label for flag, label in FLAGS if getattr(caps, flag)) or "pay only"


def render() -> str:
    labels = [gateway_class(name).label for name in GATEWAYS]
    lines = ["| method | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(GATEWAYS)]
    for method in Method:
        cells = [_cell(gateway_class(name).methods.get(method)) for name in GATEWAYS]
        lines.append(f"| `{method.value}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_every_gateway_is_in_the_table():
    assert set(GATEWAYS) <= set(gateway_names())
    assert {n for n in gateway_names() if n != "testpay"} == set(GATEWAYS)  # testpay: the core tests' own


def test_docs_table_matches_the_adapters():
    text = DOC.read_text()
    assert START in text and END in text, f"docs/gateways.md lost its markers {START!r} … {END!r}"
    documented = text.split(START, 1)[1].split(END, 1)[0].strip()
    expected = render()
    assert documented == expected, f"docs/gateways.md's capabilities table is out of date; put this there:\n{expected}"


def test_the_table_says_what_the_adapters_allow():
    table = render()
    assert "| `card` | refund · partial · save · off-session |" in table  # the sandbox keeps cards
    assert "| `va_bca` | pay only | pay only | pay only | — |" in table  # nobody refunds a VA; Stripe has none
    assert "| `qris` | refund | refund · partial | refund | — |" in table
