"""Offers: what a workspace sells. Consultation types here; project templates and plans later."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from jasa.core.models import WorkspaceOwned
from jasa.core.money import Money


class DepositKind(models.TextChoices):
    PERCENT = "percent", _("Percentage of the price")
    FIXED = "fixed", _("Fixed amount")
    FULL = "full", _("Full prepayment")


class BalanceDue(models.TextChoices):
    BEFORE = "before", _("Before the session")
    AT_TIME = "at_time", _("At a set time before the session")
    AFTER = "after", _("After the session")


class LocationKind(models.TextChoices):
    VIDEO = "video", _("Video call")
    PHONE = "phone", _("Phone call")
    ADDRESS = "address", _("In person")


class ConsultationOffer(WorkspaceOwned):
    """A consultation type: duration, price, deposit rule, scheduling rules and change policy."""

    name_id = models.CharField(_("name (Bahasa Indonesia)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description_id = models.TextField(_("description (Bahasa Indonesia)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    slug = models.SlugField(max_length=80)
    is_active = models.BooleanField(default=True)

    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5), MaxValueValidator(24 * 60)])
    price_amount = models.BigIntegerField(validators=[MinValueValidator(0)], help_text="minor units")
    currency = models.CharField(max_length=3, default="IDR")

    deposit_kind = models.CharField(max_length=10, choices=DepositKind.choices, default=DepositKind.PERCENT)
    deposit_percent = models.PositiveSmallIntegerField(default=20, validators=[MaxValueValidator(100)])
    deposit_fixed_amount = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    balance_due = models.CharField(max_length=10, choices=BalanceDue.choices, default=BalanceDue.AFTER)
    balance_due_hours_before = models.PositiveIntegerField(default=24)

    location_kind = models.CharField(max_length=10, choices=LocationKind.choices, default=LocationKind.VIDEO)
    location_detail = models.CharField(max_length=500, blank=True, help_text="video link, phone number or address")
    create_meet_link = models.BooleanField(default=False)

    staff = models.ManyToManyField("accounts.Membership", related_name="consultation_offers", blank=True)
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    min_notice_minutes = models.PositiveIntegerField(default=120)
    horizon_days = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1), MaxValueValidator(730)])
    slot_interval_minutes = models.PositiveIntegerField(default=30, validators=[MinValueValidator(5)])
    daily_limit = models.PositiveIntegerField(null=True, blank=True, help_text="bookings per staff member per day")
    weekly_limit = models.PositiveIntegerField(null=True, blank=True, help_text="bookings per staff member per week")
    questions = models.JSONField(default=list, blank=True, help_text='[{"key": "topic", "label_id": "...", "label_en": "...", "required": true}]')

    hold_minutes = models.PositiveIntegerField(default=15, validators=[MinValueValidator(1)])
    free_reschedule_hours = models.PositiveIntegerField(default=24, help_text="reschedule free until this many hours before")
    refund_until_hours = models.PositiveIntegerField(default=24, help_text="deposit refundable until this many hours before")
    refund_percent = models.PositiveSmallIntegerField(default=100, validators=[MaxValueValidator(100)])
    no_show_charges_balance = models.BooleanField(default=False)
    reminder_offsets_minutes = models.JSONField(default=list, blank=True, help_text="default [1440, 60]")
    reminder_channels = models.JSONField(default=list, blank=True, help_text='default ["email", "whatsapp"]')

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="offer_slug_once_per_workspace"),
            models.CheckConstraint(condition=models.Q(price_amount__gte=0), name="offer_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name_id

    def name(self, language: str = "id") -> str:
        return (self.name_en if language == "en" else self.name_id) or self.name_id

    def description(self, language: str = "id") -> str:
        return (self.description_en if language == "en" else self.description_id) or self.description_id

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def deposit(self) -> Money:
        """The deposit due now; never more than the price. Price minus deposit is the balance."""
        if self.deposit_kind == DepositKind.FULL:
            return self.price
        if self.deposit_kind == DepositKind.FIXED:
            return Money(min(self.deposit_fixed_amount, self.price_amount), self.currency)
        deposit, _balance = self.price.allocate([self.deposit_percent, 100 - self.deposit_percent])
        return deposit

    @property
    def balance(self) -> Money:
        return self.price - self.deposit

    @property
    def reminders(self) -> list[int]:
        return list(self.reminder_offsets_minutes or [1440, 60])
