"""Staff invoice screens: the list and its filters, a new draft from typed prices, the invoice's page, and
issue / void / mark uncollectible from it — per role, and never across workspaces."""

from __future__ import annotations

import datetime as dt

import pytest

from jasa.accounts.models import Membership
from jasa.core import clock
from jasa.core.money import Money
from jasa.notifications.models import OutboxMessage
from jasa.payments.models import Invoice, InvoiceStatus, TaxSettings
from jasa.payments.services import refund_request_manual

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(ws, client, member_factory):
    client.force_login(member_factory(ws, role="finance").user)
    return client


@pytest.fixture
def paid(ws, invoice_factory, pay_invoice):
    invoice = invoice_factory(ws, 1_000_000)
    pay_invoice(invoice, "screens", method="va_bca")
    invoice.refresh_from_db()
    return invoice


def url(ws, path=""):
    return f"/dashboard/{ws.slug}/invoices/{path}"


def text(response) -> str:
    return response.content.decode()


def flash(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def new_invoice_data(customer, *lines, **fields) -> dict:
    data = {"client": str(customer.pk), "currency": "IDR", "due_date": "", "memo": "",
            "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "50"}
    for i, (description, quantity, price, *kind) in enumerate(lines):
        data.update({f"lines-{i}-kind": kind[0] if kind else "service", f"lines-{i}-description": description,
                     f"lines-{i}-quantity": str(quantity), f"lines-{i}-unit_price": price})
    data.update(fields)
    return data


# --- list ------------------------------------------------------------------------------------------


def test_list_shows_money_and_filters(finance, ws, invoice_factory, client_factory, paid, frozen_clock,
                                      workspace_factory):
    budi = client_factory(ws, name="Budi Santoso")
    draft = invoice_factory(ws, 200_000, issue=False, client=budi)
    late = invoice_factory(ws, 300_000, client=budi, due_at=clock.now() - dt.timedelta(days=2))
    page = text(finance.get(url(ws)))
    for inv in (draft, late, paid):
        assert str(inv.pk) in page
    assert "Draft" in page or "Draf" in page
    assert paid.number in page and late.number in page
    assert "1.000.000" in page  # paid column of the paid invoice
    assert page.count("data-overdue") == 1

    page = text(finance.get(url(ws) + "?status=paid"))
    assert str(paid.pk) in page and str(late.pk) not in page and str(draft.pk) not in page
    page = text(finance.get(url(ws) + f"?client={budi.pk}"))
    assert str(draft.pk) in page and str(late.pk) in page and str(paid.pk) not in page
    page = text(finance.get(url(ws) + f"?number={late.number[-6:]}"))
    assert str(late.pk) in page and str(paid.pk) not in page and str(draft.pk) not in page
    page = text(finance.get(url(ws) + "?overdue=on"))
    assert str(late.pk) in page and str(paid.pk) not in page and str(draft.pk) not in page
    page = text(finance.get(url(ws) + "?number=NOPE"))
    assert 'id="invoices-empty"' in page and "?status" not in page
    foreign = client_factory(workspace_factory())  # another business's client filters nothing in
    page = text(finance.get(url(ws) + f"?client={foreign.pk}"))
    assert 'id="invoices-empty"' in page and 'class="field-error"' in page


def test_list_paginates(finance, ws, invoice_factory, client_factory):
    customer = client_factory(ws)
    made = [invoice_factory(ws, 10_000 + i, issue=False, client=customer) for i in range(27)]
    first, second = text(finance.get(url(ws))), text(finance.get(url(ws) + "?page=2"))
    assert first.count("data-invoice=") == 25 and second.count("data-invoice=") == 2
    assert str(made[0].pk) in second and str(made[-1].pk) in first


def test_empty_state_says_what_to_do(finance, ws, client_factory):
    page = text(finance.get(url(ws)))
    assert 'id="invoices-empty"' in page and f'href="{url(ws, "new/")}"' not in page.split("invoices-empty")[1]
    assert "API" in page  # where clients come from
    client_factory(ws)
    page = text(finance.get(url(ws)))
    assert 'id="invoices-empty"' in page and f'href="{url(ws, "new/")}"' in page


# --- create ----------------------------------------------------------------------------------------


def test_create_draft_from_typed_prices(finance, ws, client_factory):
    customer = client_factory(ws)
    r = finance.post(url(ws, "new/"), new_invoice_data(
        customer, ("Logo design", 2, "1.500.000"), ("Brand guide", 1, "250000"), ("Loyal client", 1, "100.000",
                                                                                   "discount"),
        due_date="2026-12-31", memo="Terima kasih"))
    invoice = Invoice.objects.get()
    assert r.status_code == 302 and r["Location"] == url(ws, f"{invoice.pk}/")
    assert invoice.status == InvoiceStatus.DRAFT and invoice.client == customer and invoice.memo == "Terima kasih"
    assert [(li.description, li.quantity, li.unit_amount, li.line_amount) for li in invoice.lines.all()] == [
        ("Logo design", 2, 1_500_000, 3_000_000), ("Brand guide", 1, 250_000, 250_000),
        ("Loyal client", 1, -100_000, -100_000)]
    assert invoice.total == Money(3_150_000)
    # due by the end of that day in the business's zone (Asia/Jakarta)
    assert invoice.due_at.astimezone(ws.tz).date() == dt.date(2026, 12, 31)
    assert invoice.due_at.astimezone(ws.tz).time() == dt.time(23, 59, 59)


def test_create_in_dollars_keeps_cents_exactly(finance, ws, client_factory):
    customer = client_factory(ws)
    finance.post(url(ws, "new/"), new_invoice_data(customer, ("Hosting", 3, "12.50"), currency="USD"))
    invoice = Invoice.objects.get()
    assert invoice.currency == "USD" and invoice.lines.get().unit_amount == 1250 and invoice.total == Money(3750, "USD")


@pytest.mark.parametrize("lines,fields,error", [
    ([("Logo", 1, "12.50")], {}, "IDR"),  # rupiah have no decimals
    ([("Logo", 1, "1.5.00")], {}, "1.500.000"),
    ([("Logo", 1, "abc")], {}, "1.500.000"),
    ([("", 1, "100000")], {}, 'class="field-error"'),
    ([("Logo", 0, "100000")], {}, 'class="field-error"'),
    ([], {}, 'class="field-error"'),
    ([("Logo", 1, "100000")], {"currency": "XXX"}, 'class="field-error"'),
    ([("Logo", 1, "100000")], {"due_date": "31-31-2026"}, 'class="field-error"'),
])
def test_bad_input_saves_nothing(finance, ws, client_factory, lines, fields, error):
    customer = client_factory(ws)
    r = finance.post(url(ws, "new/"), new_invoice_data(customer, *lines, **fields))
    assert r.status_code == 200 and error in text(r)
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize("lines", [
    [("Logo", 100_000, "999.999.999.999.999")],  # one line's price × quantity
    [("Logo", 1, "6.000.000.000.000"), ("Site", 1, "6.000.000.000.000")],  # the lines together
])
def test_more_money_than_an_invoice_carries_is_refused(finance, ws, client_factory, lines):
    # the same limit as the API's (models.MAX_AMOUNT), checked by invoice_create, so no form can overflow a bigint
    customer = client_factory(ws)
    r = finance.post(url(ws, "new/"), new_invoice_data(customer, *lines), follow=True)
    assert r.status_code == 200
    assert "Jumlahnya lebih dari 10000000000000 satuan terkecil mata uang" in flash(r)
    assert Invoice.objects.count() == 0


def test_another_workspaces_client_is_refused(finance, ws, workspace_factory, client_factory):
    client_factory(ws)
    foreign = client_factory(workspace_factory())
    r = finance.post(url(ws, "new/"), new_invoice_data(foreign, ("Logo", 1, "100000")))
    assert r.status_code == 200 and 'class="field-error"' in text(r)
    assert Invoice.objects.count() == 0


def test_add_line_button_saves_nothing_and_adds_a_row(finance, ws, client_factory):
    customer = client_factory(ws)
    r = finance.post(url(ws, "new/"), new_invoice_data(customer, ("Logo", 1, "100000"), add_line="1"))
    page = text(r)
    assert r.status_code == 200 and page.count('class="invoice-line"') == 2
    assert 'value="Logo"' in page and 'value="100000"' in page and 'class="field-error"' not in page
    assert Invoice.objects.count() == 0


def test_edit_draft_lines(finance, ws, invoice_factory, client_factory):
    draft = invoice_factory(ws, 100_000, issue=False)
    page = text(finance.get(url(ws, f"{draft.pk}/edit/")))
    assert 'value="100000"' in page
    other = client_factory(ws)
    r = finance.post(url(ws, f"{draft.pk}/edit/"), new_invoice_data(other, ("Workshop", 2, "750.000")))
    assert r.status_code == 302
    draft.refresh_from_db()
    assert draft.client == other and draft.total == Money(1_500_000) and draft.lines.count() == 1


def test_issued_invoice_cannot_be_edited(finance, ws, invoice_factory, client_factory):
    invoice = invoice_factory(ws, 100_000)
    r = finance.post(url(ws, f"{invoice.pk}/edit/"), new_invoice_data(client_factory(ws), ("X", 1, "5")),
                     follow=True)
    assert "draft" in flash(r).lower() or "draf" in flash(r).lower()
    invoice.refresh_from_db()
    assert invoice.total == Money(100_000)


# --- the invoice's page and its actions ------------------------------------------------------------------


def test_detail_shows_money_payments_receipts_link_and_audit(finance, ws, paid):
    refund_request_manual(payment=paid.payments.get(), amount=Money(100_000), reason="overlap")
    page = text(finance.get(url(ws, f"{paid.pk}/")))
    payment = paid.payments.get()
    assert f"/dashboard/{ws.slug}/payments/{payment.pk}/" in page
    assert payment.receipt.number in page
    assert 'id="pay-url"' in page and f"/pay/{paid.pk}/?t=" in page and "data-copy" in page
    assert "invoice.issue" in page and "invoice.paid" in page
    assert "total: Rp 1.000.000" in page and "amount&#x27;" not in page  # stored amounts shown as money
    assert "owed-refund" in page
    # paid: no issue, void or write-off offered
    assert "issue-form" not in page and "void-form" not in page and "uncollectible-form" not in page


def test_issue_gives_number_tax_and_emails_the_pay_link(finance, ws, invoice_factory):
    TaxSettings.objects.create(workspace=ws, enabled=True)
    draft = invoice_factory(ws, 1_200_000, issue=False)
    page = text(finance.get(url(ws, f"{draft.pk}/")))
    assert "issue-form" in page and "void-form" in page and "uncollectible-form" not in page
    assert 'id="pay-url"' not in page  # a draft has no pay link yet
    r = finance.post(url(ws, f"{draft.pk}/issue/"), {"send_link": "on"}, follow=True)
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.OPEN and draft.number.startswith("INV/")
    assert draft.lines.filter(kind="tax").get().line_amount == 132_000  # 12 % of 11/12 of 1.200.000
    message = OutboxMessage.objects.get(template="payments.invoice")
    assert message.recipient == draft.client.email and f"/pay/{draft.pk}/?t=" in message.context["pay_url"]
    page = text(r)
    assert draft.number in page and 'id="link-sent"' in page and "uncollectible-form" in page


def test_pay_link_email_renders_in_both_languages(ws, invoice_factory):
    from jasa.notifications.rendering import render as render_message
    from jasa.payments.services_invoices import invoice_send_pay_link

    invoice = invoice_factory(ws, 1_500_000)
    invoice_send_pay_link(invoice)
    message = OutboxMessage.objects.get(template="payments.invoice")
    rendered = render_message(message)
    assert invoice.number in rendered.subject and "1.500.000" in rendered.text and str(invoice.pk) in rendered.html


def test_void_needs_a_reason(finance, ws, invoice_factory):
    invoice = invoice_factory(ws)
    r = finance.post(url(ws, f"{invoice.pk}/void/"), {"void-reason": ""}, follow=True)
    assert "reason" in flash(r).lower() or "alasan" in flash(r).lower()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    finance.post(url(ws, f"{invoice.pk}/void/"), {"void-reason": "ordered twice"})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID and invoice.void_reason == "ordered twice"


def test_mark_uncollectible(finance, ws, invoice_factory):
    invoice = invoice_factory(ws)
    r = finance.post(url(ws, f"{invoice.pk}/uncollectible/"), {"wo-reason": "client vanished"}, follow=True)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE and invoice.void_reason == "client vanished"
    assert "void-form" not in text(r) and "uncollectible-form" not in text(r)


@pytest.mark.parametrize("action,data", [
    ("issue/", {}), ("void/", {"void-reason": "x"}), ("uncollectible/", {"wo-reason": "x"}), ("send-link/", {}),
])
def test_forged_actions_get_a_message_not_a_500(finance, ws, paid, action, data):
    r = finance.post(url(ws, f"{paid.pk}/{action}"), data, follow=True)
    assert r.status_code == 200 and r.redirect_chain[-1][0] == url(ws, f"{paid.pk}/")
    assert paid.number in flash(r)  # the service's refusal names the invoice
    paid.refresh_from_db()
    assert paid.status == InvoiceStatus.PAID


def test_uncollectible_on_a_draft_is_refused(finance, ws, invoice_factory):
    draft = invoice_factory(ws, issue=False)
    r = finance.post(url(ws, f"{draft.pk}/uncollectible/"), {"wo-reason": "x"}, follow=True)
    assert flash(r) == (f"Tagihan tidak ditandai tidak tertagih: Tagihan draf {str(draft.pk)[:8]} berstatus draf; "
                        "hanya tagihan yang belum dibayar yang dapat dinyatakan tidak tertagih.")
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT


def test_empty_draft_cannot_be_issued(finance, ws, client_factory):
    customer = client_factory(ws)
    finance.post(url(ws, "new/"), new_invoice_data(customer, ("Free call", 1, "0")))
    draft = Invoice.objects.get()
    r = finance.post(url(ws, f"{draft.pk}/issue/"), {}, follow=True)
    assert flash(r).endswith("Tagihan tidak diterbitkan: Total tagihan harus lebih dari nol agar dapat diterbitkan.")
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT and draft.number is None


# --- scoping and permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("path,data", [
    ("", None), ("edit/", None), ("issue/", {}), ("void/", {"void-reason": "x"}),
    ("uncollectible/", {"wo-reason": "x"}), ("send-link/", {}),
])
def test_another_workspaces_invoice_is_404(finance, ws, workspace_factory, client_factory, path, data):
    from jasa.payments.services import invoice_create

    other = workspace_factory()
    foreign = invoice_create(workspace=other, client=client_factory(other),
                             lines=[{"description": "x", "amount": Money(5000)}])
    r = finance.get(url(ws, f"{foreign.pk}/{path}")) if data is None else finance.post(
        url(ws, f"{foreign.pk}/{path}"), data)
    assert r.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == InvoiceStatus.DRAFT


ALLOWED = {"owner": True, "admin": True, "finance": True, "staff": False}


@pytest.mark.parametrize("who", ["owner", "admin", "staff", "finance", "outsider", "anonymous"])
def test_permission_matrix(client, ws, who, member_factory, user_factory, invoice_factory, client_factory):
    draft = invoice_factory(ws, issue=False)
    if who == "owner":
        client.force_login(Membership.objects.get(workspace=ws, role="owner").user)
    elif who in ALLOWED:
        client.force_login(member_factory(ws, role=who).user)
    elif who == "outsider":
        client.force_login(user_factory())
    responses = {
        "list": client.get(url(ws)), "new": client.get(url(ws, "new/")),
        "detail": client.get(url(ws, f"{draft.pk}/")),
        "create": client.post(url(ws, "new/"), new_invoice_data(client_factory(ws), ("Logo", 1, "5000"))),
        "issue": client.post(url(ws, f"{draft.pk}/issue/"), {}),
    }
    expected = {True: (200, 302), False: (403,)}.get(ALLOWED.get(who)) if who in ALLOWED else (
        (404,) if who == "outsider" else (302,))
    for name, r in responses.items():
        assert r.status_code in expected, (name, r.status_code)
        if who == "anonymous":
            assert "/accounts/login/" in r["Location"]
    draft.refresh_from_db()
    assert (draft.status == InvoiceStatus.OPEN) is ALLOWED.get(who, False)
    assert Invoice.objects.count() == (2 if ALLOWED.get(who) else 1)
    if who in ALLOWED:  # the nav shows "Invoices" exactly to those who may use it
        nav = text(client.get(f"/dashboard/{ws.slug}/"))
        assert (f'href="{url(ws)}"' in nav) is ALLOWED[who]
