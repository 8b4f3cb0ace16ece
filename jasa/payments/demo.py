"""Demo data of the payment core: a paid invoice with a partial refund and an open one awaiting a VA
transfer, so the payments list, a timeline and the reports have something to show."""

from __future__ import annotations

from jasa.core.demo import demo_part


@demo_part(order=20)  # after the sandbox gateway account (order 10)
def load_payments_demo(workspace, people) -> None:
    from jasa.accounts.models import Client
    from jasa.core import clock
    from jasa.core.money import Money
    from jasa.payments import services
    from jasa.payments.models import SavedPaymentMethod

    client = Client.objects.get(workspace=workspace, email="client@demo.jasa.local")
    saved = SavedPaymentMethod.objects.create(
        workspace=workspace, client=client, gateway="sandbox", token="tok_sandbox_success", method="card",
        brand="visa", masked="4811 11•• •••• 1114", expiry_month=12, expiry_year=2030, consent_at=clock.now(),
    )
    audit = services.invoice_issue(services.invoice_create(
        workspace=workspace, client=client, source="demo:website-audit",
        lines=[{"kind": "service", "description": "Audit website & SEO", "amount": Money(2_500_000)}],
    ))
    paid = services.payment_charge_saved(invoice=audit, saved_method=saved, idempotency_key="demo:audit:1")
    if paid.status == "succeeded":
        services.payment_refund(payment=paid, amount=Money(500_000), reason="Diskon setelah revisi jadwal",
                                refund_key="demo:audit:refund")
    branding = services.invoice_issue(services.invoice_create(
        workspace=workspace, client=client, source="demo:branding",
        lines=[{"kind": "service", "description": "Paket branding (termin 1)", "amount": Money(1_200_000)}],
    ))
    services.payment_start(invoice=branding, idempotency_key="demo:branding:1", method="va_bca")
