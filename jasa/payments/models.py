"""The payment core's rows: invoices, payments, the append-only ledger, refunds, receipts, fees, gateways.

Rules kept here (and only changed through services):
- Money is integer minor units in ``<name>_amount`` + ``currency``.
- An invoice's paid and refunded amounts are DERIVED from the ledger, never stored.
- A payment's status moves forward only, through :meth:`PaymentIntent.transition`.
- Ledger entries are append-only and unique by (payment, kind, key), so applying the same
  gateway fact twice (duplicate webhooks, racing processes) records it once.
- Money records reference each other with RESTRICT: an invoice, payment or client with money
  history cannot be deleted on its own, only with its whole workspace (tenant deletion).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jasa.core import clock
from jasa.core.errors import InvalidTransition
from jasa.core.models import BaseModel, WorkspaceOwned
from jasa.core.money import Money
from jasa.payments.gateways.base import SetupStatus, Status
from jasa.payments.wording import PAYMENT_STATUS, SETUP_STATUS, payment_status

# --- invoices ------------------------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    UNCOLLECTIBLE = "uncollectible", _("Uncollectible")


class LineKind(models.TextChoices):
    SERVICE = "service", _("Service")
    SURCHARGE = "surcharge", _("Surcharge")
    DISCOUNT = "discount", _("Discount")
    TAX = "tax", _("Tax (PPN)")


class DocumentCounter(models.Model):
    """The last number used per workspace, prefix (INV, KWT) and year. Locked while a number is taken,
    inside the same transaction that uses it: a rollback gives the number back, so there are no gaps."""

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "prefix", "year"], name="document_counter_once")
        ]


class Invoice(WorkspaceOwned):
    """What a client owes. Lines are fixed once issued, except a surcharge line added when a payment
    that carried one succeeds (see docs in services.payment_start)."""

    client = models.ForeignKey("accounts.Client", on_delete=models.RESTRICT, related_name="invoices")
    status = models.CharField(max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    number = models.CharField(max_length=32, null=True, blank=True)
    currency = models.CharField(max_length=3, default="IDR")
    subtotal_amount = models.BigIntegerField(default=0)
    tax_amount = models.BigIntegerField(default=0)
    total_amount = models.BigIntegerField(default=0)
    source = models.CharField(max_length=200, blank=True, help_text="e.g. booking:<uuid>:deposit")
    memo = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="id")
    due_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "source"], condition=~Q(source=""), name="invoice_source_once"
            ),
            models.UniqueConstraint(
                fields=["workspace", "number"], condition=Q(number__isnull=False), name="invoice_number_once"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "status", "created_at"])]

    def __str__(self) -> str:
        return self.number or f"draft {str(self.pk)[:8]}"

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)

    @property
    def subtotal(self) -> Money:
        return Money(self.subtotal_amount, self.currency)

    @property
    def tax(self) -> Money:
        return Money(self.tax_amount, self.currency)


class InvoiceLine(BaseModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=LineKind.choices, default=LineKind.SERVICE)
    description = models.CharField(max_length=300)
    unit_amount = models.BigIntegerField(help_text="signed: discounts are negative")
    quantity = models.PositiveIntegerField(default=1)
    line_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="IDR")
    payment = models.ForeignKey(
        "payments.PaymentIntent", null=True, blank=True, on_delete=models.RESTRICT, related_name="+",
        help_text="the payment whose surcharge this line is",
    )

    class Meta:
        ordering = ["position", "created_at"]

    @property
    def amount(self) -> Money:
        return Money(self.line_amount, self.currency)

    @property
    def unit(self) -> Money:
        return Money(self.unit_amount, self.currency)


class TaxSettings(WorkspaceOwned):
    """PPN per workspace: off by default. Tax = price x base (e.g. 11/12) x rate (e.g. 12 %)."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="tax_settings")
    enabled = models.BooleanField(_("charge PPN"), default=False)
    rate_percent = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2, default=12)
    base_numerator = models.PositiveIntegerField(_("tax base numerator"), default=11)
    base_denominator = models.PositiveIntegerField(_("tax base denominator"), default=12)
    label = models.CharField(_("label"), max_length=60, default="PPN")


# --- gateways and fees ------------------------------------------------------------------------


class FeeBearer(models.TextChoices):
    ABSORB = "absorb", _("The business absorbs the fee")
    PASS_ON = "pass_on", _("Passed on to the client as a surcharge")


class GatewayAccount(WorkspaceOwned):
    """A workspace's use of one gateway: its credentials (encrypted), methods and who bears fees."""

    gateway = models.CharField(max_length=40)
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)
    sandbox = models.BooleanField(default=True, help_text="the gateway's test mode")
    enabled_methods = models.JSONField(default=list, blank=True, help_text="empty: every method the gateway has")
    credentials_encrypted = models.TextField(blank=True)
    fee_bearer = models.CharField(max_length=10, choices=FeeBearer.choices, default=FeeBearer.ABSORB)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_result = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "gateway"], name="gateway_account_once"),
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(is_default=True), name="gateway_account_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} ({'sandbox' if self.sandbox else 'live'})"

    @property
    def credentials(self) -> dict[str, str]:
        from jasa.core.crypto import decrypt_json

        return decrypt_json(self.credentials_encrypted, what="gateway credentials")

    def set_credentials(self, values: dict[str, str]) -> None:
        from jasa.core.crypto import encrypt_json

        self.credentials_encrypted = encrypt_json(values)


class FeeRule(BaseModel):
    """A gateway's price for a method. Rows with no workspace are not needed: built-in defaults live in
    jasa.payments.fees; a row overrides them (per workspace when ``workspace`` is set)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    gateway = models.CharField(max_length=40)
    method = models.CharField(max_length=20, help_text="a method (va_bca) or a family (card, va, qris, ewallet, store)")
    percent_bp = models.PositiveIntegerField(default=0, help_text="basis points: 290 = 2.9 %")
    fixed_amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="IDR")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "gateway", "method", "currency"], name="fee_rule_once")
        ]

    @property
    def percent(self) -> Decimal:
        return Decimal(self.percent_bp) / 100


# --- payments -----------------------------------------------------------------------------------

# Forward-only transitions. Terminal failures stay terminal; refunds and disputes follow success.
TRANSITIONS: dict[str, set[str]] = {
    Status.CREATED: {Status.REQUIRES_ACTION, Status.PROCESSING, Status.SUCCEEDED, Status.FAILED,
                     Status.CANCELED, Status.EXPIRED},
    Status.REQUIRES_ACTION: {Status.PROCESSING, Status.SUCCEEDED, Status.FAILED, Status.CANCELED,
                             Status.EXPIRED},
    Status.PROCESSING: {Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.EXPIRED},
    Status.SUCCEEDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED},
    Status.PARTIALLY_REFUNDED: {Status.REFUNDED, Status.DISPUTED},
    Status.REFUNDED: set(),
    Status.DISPUTED: set(),
    Status.FAILED: set(),
    Status.CANCELED: set(),
    Status.EXPIRED: set(),
}
# The most money one invoice may carry, in minor units (Rp 10 trillion; USD 100 billion in cents): any one
# amount, a line's amount × quantity, and an invoice's lines together. Far above any service sold here, and far
# inside a bigint (9.2 × 10^18) also once tax, fees and sums are added on top. invoice_create and the API check it.
MAX_AMOUNT = 10**13

PENDING_STATUSES = (Status.CREATED, Status.REQUIRES_ACTION, Status.PROCESSING)
PAID_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED)


def can_transition(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, set())


def can_reach(old: str, new: str) -> bool:
    """``new`` lies ahead of ``old``: one or more transitions lead there (``processing`` -> ``refunded``)."""
    ahead: set[str] = set()
    todo = [old]
    while todo:
        for following in TRANSITIONS.get(todo.pop(), set()) - ahead:
            ahead.add(following)
            todo.append(following)
    return new in ahead


class PaymentIntent(WorkspaceOwned):
    """One attempt to collect an amount of an invoice through one gateway and method.

    Its id is the reference sent to the gateway (order_id / external_id / Idempotency-Key), so a
    retried create never charges twice.
    """

    STATUS_CHOICES = [(s.value, PAYMENT_STATUS[s.value]) for s in Status]

    invoice = models.ForeignKey(Invoice, on_delete=models.RESTRICT, related_name="payments")
    idempotency_key = models.CharField(max_length=200)
    gateway = models.CharField(max_length=40)
    method = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=24, choices=STATUS_CHOICES, default=Status.CREATED)
    currency = models.CharField(max_length=3, default="IDR")
    applied_amount = models.BigIntegerField(help_text="what goes toward the invoice")
    surcharge_amount = models.BigIntegerField(default=0, help_text="fee passed on to the client")
    gross_amount = models.BigIntegerField(help_text="what the gateway charges: applied + surcharge")
    gateway_reference = models.CharField(max_length=200, blank=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    next_action = models.JSONField(default=dict, blank=True)
    return_url = models.URLField(max_length=1000, blank=True)
    save_method = models.BooleanField(default=False)
    off_session = models.BooleanField(default=False)
    saved_method = models.ForeignKey(
        "payments.SavedPaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=clock.now)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="when the gateway accepted the create")
    # Written once at capture, with the ledger's gateway_fee entry; ledger_problems checks one against the
    # other. Empty on payments captured before it existed (or not captured).
    fee_amount = models.BigIntegerField(null=True, blank=True,
                                        help_text="the gateway fee recorded at capture (the gateway's, else the fee rules')")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "idempotency_key"], name="payment_idempotency_key_once"),
            models.CheckConstraint(condition=Q(fee_amount__isnull=True) | Q(fee_amount__gte=0),
                                   name="payment_fee_not_negative"),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"]),
            models.Index(fields=["workspace", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"payment {str(self.pk)[:8]} {self.status}"

    @property
    def reference(self) -> str:
        return str(self.pk)

    @property
    def amount(self) -> Money:
        return Money(self.gross_amount, self.currency)

    @property
    def applied(self) -> Money:
        return Money(self.applied_amount, self.currency)

    @property
    def surcharge(self) -> Money:
        return Money(self.surcharge_amount, self.currency)

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES

    def transition(self, new: str) -> bool:
        """Move to ``new`` if allowed. Same status: no change (False). Backwards/sideways: raise.

        Call only on a row locked with select_for_update (services.payment_sync does).
        """
        if new == self.status:
            return False
        if not can_transition(self.status, new):
            raise InvalidTransition(_("A payment cannot go from %(status)s to %(to)s.") % {
                "status": payment_status(self.status), "to": payment_status(new)})
        self.status = new
        self.status_changed_at = clock.now()
        return True


class LedgerKind(models.TextChoices):
    AUTHORIZED = "authorized", _("Authorized")
    CAPTURED = "captured", _("Captured")
    SETTLED = "settled", _("Settled")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    CHARGEBACK = "chargeback", _("Chargeback")
    GATEWAY_FEE = "gateway_fee", _("Gateway fee")


class LedgerManager(models.Manager):
    """``LedgerEntry.objects``: its querysets refuse ``delete()``. A workspace's deletion still removes its
    entries: Django's collector deletes through the base manager, not this one (see ledger_guard)."""

    def get_queryset(self):
        return LedgerQuerySet(self.model, using=self._db)


class LedgerQuerySet(models.QuerySet):
    def delete(self):
        raise RuntimeError("ledger entries are append-only; they go only with their workspace")

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class LedgerEntry(models.Model):
    """An append-only money event of a payment. Amounts are positive; the kind says the direction.

    When each kind is written (services._move and _apply; docs/payments.md "The ledger"):
    ``authorized`` the gateway holds the money, not captured yet; ``captured`` the payment succeeded
    (what the invoice's paid amount is derived from); ``settled`` the captured money reached the
    business's gateway balance (never counted again); ``failed`` (amount 0) failed, canceled or expired;
    ``refunded``; ``chargeback`` the net captured when disputed; ``gateway_fee``.

    Append-only in the database too: ``ledger_guard`` (migration 0005) refuses UPDATE on SQLite and
    PostgreSQL, and on PostgreSQL a DELETE that does not delete the workspace in the same transaction.
    """

    id = models.BigAutoField(primary_key=True)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    payment = models.ForeignKey(PaymentIntent, on_delete=models.RESTRICT, related_name="ledger")
    invoice = models.ForeignKey(Invoice, on_delete=models.RESTRICT, related_name="ledger")
    kind = models.CharField(max_length=20, choices=LedgerKind.choices)
    key = models.CharField(max_length=200, help_text="gateway ref or refund id: makes the entry idempotent")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=20, blank=True)
    gateway = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    objects = LedgerManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "kind", "key"], name="ledger_entry_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="ledger_amount_not_negative"),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("ledger entries are append-only")

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class LedgerCheck(models.Model):
    """One run of the scheduled ledger check (services_ledger.ledger_check_run) over every workspace: what it
    found. /healthz shows the latest run; the problems themselves also go to the log, the audit trail of
    each workspace concerned and the instance admins' email."""

    id = models.BigAutoField(primary_key=True)
    started_at = models.DateTimeField(default=clock.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    workspaces = models.PositiveIntegerField(default=0)
    invoices = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True, help_text='[{"workspace": slug, "problem": text}], the first 200')

    class Meta:
        ordering = ["-started_at", "-id"]


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class RefundChannel(models.TextChoices):
    GATEWAY = "gateway", _("Through the gateway")
    # Paid by the business outside the gateway (VA and store payments cannot be refunded there):
    # pending = owed to the client, succeeded = transferred (see services.refund_record_manual).
    BANK_TRANSFER = "bank_transfer", _("By bank transfer")


class Refund(WorkspaceOwned):
    payment = models.ForeignKey(PaymentIntent, on_delete=models.RESTRICT, related_name="refunds")
    channel = models.CharField(max_length=20, choices=RefundChannel.choices, default=RefundChannel.GATEWAY)
    refund_key = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    refund_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    gateway_reference = models.CharField(max_length=200, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    requested_by = models.CharField(max_length=200, blank=True)
    # Bank transfer refunds only: where the client wants the money (never card data) and the bank's reference.
    bank_name = models.CharField(max_length=60, blank=True)
    account_number = models.CharField(max_length=34, blank=True)
    account_holder = models.CharField(max_length=100, blank=True)
    transfer_reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["payment", "refund_key"], name="refund_key_once")]

    @property
    def amount(self) -> Money:
        return Money(self.refund_amount, self.currency)

    @property
    def is_owed(self) -> bool:
        """A bank transfer the business still has to make."""
        return self.channel == RefundChannel.BANK_TRANSFER and self.status == RefundStatus.PENDING

    @property
    def has_account(self) -> bool:
        return bool(self.bank_name and self.account_number and self.account_holder)


class SavedPaymentMethod(WorkspaceOwned):
    """A gateway token a client agreed may be charged again. Never a card number or CVV."""

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="saved_methods")
    gateway = models.CharField(max_length=40)
    token = models.CharField(max_length=300)
    method = models.CharField(max_length=20)
    brand = models.CharField(max_length=40, blank=True)
    masked = models.CharField(max_length=40, blank=True)
    expiry_month = models.PositiveSmallIntegerField(null=True, blank=True)
    expiry_year = models.PositiveSmallIntegerField(null=True, blank=True)
    consent_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "gateway", "token"], name="saved_method_token_once")
        ]

    def __str__(self) -> str:
        label = " ".join(p for p in (self.brand, self.masked) if p) or self.method
        if self.expiry_month and self.expiry_year:
            label += f" ({self.expiry_month:02d}/{self.expiry_year % 100:02d})"
        return label


class SavedMethodSetup(WorkspaceOwned):
    """A client saving a card without paying (for a trial, or to change the card): started on the gateway's
    hosted page (``redirect_url``), finished when the gateway says so. Its id is the reference sent to the
    gateway. ``status`` leaves ``pending`` once, through services_setup under a row lock; a succeeded setup
    points at the SavedPaymentMethod it made. ``consent_at``: when the client agreed, on jasa's page, that
    the business may charge the card later (the moment they asked to add it)."""

    STATUS_CHOICES = [(s.value, SETUP_STATUS[s.value]) for s in SetupStatus]

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="method_setups")
    gateway = models.CharField(max_length=40)
    gateway_account = models.ForeignKey(GatewayAccount, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", help_text="empty: the sandbox without settings")
    idempotency_key = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=STATUS_CHOICES, default=SetupStatus.PENDING.value)
    gateway_reference = models.CharField(max_length=200, blank=True)
    redirect_url = models.URLField(max_length=1000, blank=True)
    return_url = models.URLField(max_length=1000, blank=True)
    consent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    saved_method = models.ForeignKey(SavedPaymentMethod, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="setups")
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="when the gateway accepted the start")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "idempotency_key"], name="method_setup_key_once"),
            models.CheckConstraint(
                condition=Q(status=SetupStatus.PENDING.value, finished_at__isnull=True)
                | (~Q(status=SetupStatus.PENDING.value) & Q(finished_at__isnull=False)),
                name="method_setup_finished_when_final",
            ),
            models.CheckConstraint(condition=Q(saved_method__isnull=True) | Q(status=SetupStatus.SUCCEEDED.value),
                                   name="method_setup_method_only_when_succeeded"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="method_setup_status")]

    def __str__(self) -> str:
        return f"setup {str(self.pk)[:8]} {self.status}"

    @property
    def reference(self) -> str:
        return str(self.pk)

    @property
    def is_pending(self) -> bool:
        return self.status == SetupStatus.PENDING


class WebhookEvent(models.Model):
    """A verified gateway notification, stored once by (gateway, event_id). A trigger, not the truth."""

    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    gateway = models.CharField(max_length=40)
    event_id = models.CharField(max_length=200)
    reference = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=100, blank=True)
    claimed_status = models.CharField(max_length=60, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    # Both are set only when the event is processed: partial indexes (below) keep them out of the
    # insert that a webhook request makes (bench/webhooks.py).
    workspace = models.ForeignKey(
        "accounts.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    payment = models.ForeignKey(
        PaymentIntent, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events", db_index=False
    )
    state = models.CharField(max_length=12, default=RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=clock.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_event_once")]
        indexes = [
            models.Index(fields=["state", "received_at"]),
            models.Index(fields=["payment"], name="webhook_event_payment", condition=Q(payment__isnull=False)),
            models.Index(fields=["workspace"], name="webhook_event_workspace", condition=Q(workspace__isnull=False)),
        ]


class Receipt(WorkspaceOwned):
    """The numbered proof (kuitansi) of one successful payment: KWT/2026/000123."""

    payment = models.OneToOneField(PaymentIntent, on_delete=models.RESTRICT, related_name="receipt")
    invoice = models.ForeignKey(Invoice, on_delete=models.RESTRICT, related_name="receipts")
    number = models.CharField(max_length=32)
    receipt_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    issued_at = models.DateTimeField(default=clock.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [models.UniqueConstraint(fields=["workspace", "number"], name="receipt_number_once")]

    def __str__(self) -> str:
        return self.number

    @property
    def amount(self) -> Money:
        return Money(self.receipt_amount, self.currency)
