"""The sandbox gateway's own records: what a real gateway keeps on its side of the wire.

These rows belong to the fake gateway "server", not to a workspace: a merchant (one per set of
sandbox credentials, usually one per workspace) owns its payments, tokens and refunds, exactly as
Midtrans keeps its own transactions. jasa's payment core never reads them; it asks the adapter.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from jasa.core import clock
from jasa.core.models import BaseModel
from jasa.core.money import Money


def _secret() -> str:
    return "sbx_sk_" + secrets.token_urlsafe(24)


class SandboxMerchant(BaseModel):
    """One sandbox account: ``merchant_id`` + ``secret_key`` are the credentials jasa stores."""

    merchant_id = models.CharField(max_length=100, unique=True)
    secret_key = models.CharField(max_length=200, default=_secret)
    workspace = models.ForeignKey(
        "accounts.Workspace", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name or self.merchant_id

    @property
    def credentials(self) -> dict[str, str]:
        return {"merchant_id": self.merchant_id, "secret_key": self.secret_key}


class SandboxPayment(BaseModel):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    STATUSES = [(s, s) for s in (PENDING, PAID, FAILED, EXPIRED, CANCELED, REFUNDED, PARTIALLY_REFUNDED)]
    FINAL_UNPAID = (FAILED, EXPIRED, CANCELED)
    # kind "setup": saving a card without a payment, a zero-amount card verification (what a gateway does
    # to check a card before keeping it). It "pays" nothing; once verified its card becomes a token.
    SETUP = "setup"

    # 3-D Secure: "" (none), challenge (OTP asked), passed, failed
    THREEDS_CHALLENGE = "challenge"
    THREEDS_PASSED = "passed"
    THREEDS_FAILED = "failed"

    merchant = models.ForeignKey(SandboxMerchant, on_delete=models.CASCADE, related_name="payments")
    reference = models.CharField(max_length=100, help_text="jasa's payment reference (the order id)")
    gateway_reference = models.CharField(max_length=40, unique=True)
    gross_amount = models.BigIntegerField()
    refunded_amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="IDR")
    method = models.CharField(max_length=20, blank=True, help_text="jasa Method value; blank until chosen")
    allowed_methods = models.JSONField(default=list, blank=True, help_text="empty: every method")
    status = models.CharField(max_length=20, choices=STATUSES, default=PENDING)
    livemode = models.BooleanField(default=False, help_text="false: the simulate panel is offered")
    kind = models.CharField(max_length=10, default="checkout", help_text="checkout | direct | saved | setup")
    description = models.CharField(max_length=300, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.CharField(max_length=200, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    notification_url = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    save_method = models.BooleanField(default=False)
    expires_in_seconds = models.PositiveIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # the instrument, once a method is chosen
    va_number = models.CharField(max_length=40, blank=True)
    bank = models.CharField(max_length=20, blank=True)
    qr_string = models.TextField(blank=True)
    store_code = models.CharField(max_length=40, blank=True)
    # cards: never the number, only what a receipt may show
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    threeds_state = models.CharField(max_length=10, blank=True)
    otp_attempts = models.PositiveSmallIntegerField(default=0)
    token = models.ForeignKey("SandboxToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    failure_code = models.CharField(max_length=50, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "reference"], name="sandbox_payment_reference_once"),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("gross_amount")), name="sandbox_refund_le_gross"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.gateway_reference} {self.reference} {self.status}"

    @property
    def amount(self) -> Money:
        return Money(self.gross_amount, self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_amount, self.currency)

    @property
    def family(self) -> str:
        from jasa.sandbox.methods import family

        return family(self.method) if self.method else ""

    @property
    def api_status(self) -> str:
        """The status in the sandbox API's words: a setup whose card was verified "succeeded" (it paid nothing)."""
        return "succeeded" if self.kind == self.SETUP and self.status == self.PAID else self.status

    @property
    def is_open(self) -> bool:
        return self.status == self.PENDING and not self.is_past_expiry

    @property
    def is_past_expiry(self) -> bool:
        return self.expires_at is not None and self.expires_at <= clock.now()


class SandboxToken(BaseModel):
    """A saved card for off-session charges. ``behaviour`` decides what a charge does."""

    SUCCESS = "success"
    NEEDS_AUTH = "needs_auth"
    DECLINE = "decline"
    INSUFFICIENT = "insufficient"
    BEHAVIOURS = [(s, s) for s in (SUCCESS, NEEDS_AUTH, DECLINE, INSUFFICIENT)]

    merchant = models.ForeignKey(
        SandboxMerchant, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens",
        help_text="empty: a built-in test token every merchant may use",
    )
    token = models.CharField(max_length=60, unique=True)
    brand = models.CharField(max_length=20, default="visa")
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    behaviour = models.CharField(max_length=20, choices=BEHAVIOURS, default=SUCCESS)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.token} ({self.brand} {self.last4})"

    @property
    def masked(self) -> str:
        bin6 = {"visa": "481111", "mastercard": "521111"}.get(self.brand, "400000")
        return f"{bin6}******{self.last4}"

    def is_expired(self) -> bool:
        today = clock.now().date()
        return (self.exp_year, self.exp_month) < (today.year, today.month)


class SandboxRefund(BaseModel):
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    payment = models.ForeignKey(SandboxPayment, on_delete=models.CASCADE, related_name="refunds")
    refund_key = models.CharField(max_length=100)
    gateway_reference = models.CharField(max_length=40, unique=True)
    amount = models.BigIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=[(SUCCEEDED, SUCCEEDED), (FAILED, FAILED)])
    failure_message = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["payment", "refund_key"], name="sandbox_refund_key_once"),
        ]


class SandboxFaults(BaseModel):
    """Switchable misbehaviour, per merchant (or global when ``merchant`` is empty)."""

    API_NONE = ""
    API_5XX = "5xx"
    API_TIMEOUT = "timeout"
    API_FAULTS = [(API_NONE, _("none")), (API_5XX, _("gateway answers 5xx")),
                  (API_TIMEOUT, _("gateway times out (after doing the work)"))]

    merchant = models.OneToOneField(
        SandboxMerchant, null=True, blank=True, on_delete=models.CASCADE, related_name="faults"
    )
    webhook_duplicate = models.BooleanField(_("send every notification twice"), default=False)
    webhook_out_of_order = models.BooleanField(_("deliver notifications out of order"), default=False)
    webhook_delay_seconds = models.PositiveIntegerField(_("delay notifications by (seconds)"), default=0)
    webhook_forged = models.BooleanField(_("sign notifications with a wrong key"), default=False)
    webhook_lost = models.BooleanField(_("lose notifications (never send them)"), default=False)
    api_fault = models.CharField(_("API calls"), max_length=10, choices=API_FAULTS, blank=True, default=API_NONE)
    api_fault_calls = models.PositiveIntegerField(
        _("for the next N API calls (0: until switched off)"), default=0
    )
    refund_fail = models.BooleanField(_("make every refund fail"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant"], condition=models.Q(merchant__isnull=True), name="sandbox_one_global_faults"
            ),
        ]


class SandboxWebhook(BaseModel):
    """One delivery of one notification. Duplicates share an ``event_id`` (that is the fault)."""

    PENDING = "pending"
    HELD = "held"  # out-of-order: waits until a later event of its payment has gone
    SENT = "sent"
    REJECTED = "rejected"  # the receiver answered 4xx (e.g. a forged signature)
    LOST = "lost"
    STATUSES = [(s, s) for s in (PENDING, HELD, SENT, REJECTED, LOST)]

    merchant = models.ForeignKey(SandboxMerchant, on_delete=models.CASCADE, related_name="webhooks")
    payment = models.ForeignKey(SandboxPayment, null=True, on_delete=models.CASCADE, related_name="webhooks")
    event_id = models.CharField(max_length=60, db_index=True)
    event_type = models.CharField(max_length=40)
    data = models.JSONField()
    url = models.CharField(max_length=500)
    forged = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    due_at = models.DateTimeField(default=clock.now)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
