"""Users, workspaces (one business each), staff memberships and roles, invitations, clients."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from jasa.core import clock
from jasa.core.models import BaseModel, WorkspaceOwned
from jasa.core.money import CURRENCIES


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("an email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who logs in: staff of one or more workspaces, or a client, or both. Email is the login."""

    username = None  # type: ignore[assignment,misc]
    email = models.EmailField(_("email"), unique=True)  # type: ignore[misc]
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="id")
    time_zone = models.CharField(max_length=64, default="Asia/Jakarta")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]
    objects = UserManager()  # type: ignore[misc,assignment]

    def __str__(self) -> str:
        return self.name or self.email


TIME_ZONE_CHOICES = [(z, z) for z in sorted(zoneinfo.available_timezones()) if "/" in z]
slug_validator = RegexValidator(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$", _("Use lowercase letters, digits and hyphens."))
RESERVED_SLUGS = {
    "admin", "api", "accounts", "dashboard", "portal", "static", "media", "webhooks", "healthz",
    "i18n", "sandbox", "pay", "checkout", "receipts", "invoices", "b", "s", "p", "new", "ical", "invite",
}


class Workspace(BaseModel):
    """One business using jasa: its staff, offers, gateways and policies."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("address"), max_length=50, unique=True, validators=[slug_validator])
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    brand_colour = models.CharField(
        _("brand colour"), max_length=7, default="#0b6e4f", validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$")]
    )
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Asia/Jakarta")
    currency = models.CharField(_("currency"), max_length=3, choices=[(c, c) for c in CURRENCIES], default="IDR")
    languages = models.JSONField(_("languages"), default=list, help_text="e.g. [\"id\", \"en\"]")
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    address = models.TextField(_("address"), blank=True)
    npwp = models.CharField(_("NPWP"), max_length=32, blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    refund_policy_id = models.TextField(_("refund policy (Bahasa Indonesia)"), blank=True)
    refund_policy_en = models.TextField(_("refund policy (English)"), blank=True)
    terms_id = models.TextField(_("terms (Bahasa Indonesia)"), blank=True)
    terms_en = models.TextField(_("terms (English)"), blank=True)
    # Said in the cancellation message when a deposit goes back by bank transfer (VA, store: the gateway cannot
    # refund them); empty: the message quotes the refund policy instead.
    refund_transfer_days = models.PositiveSmallIntegerField(
        _("refund by bank transfer within (working days)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("1 to 60. Leave empty to let the refund policy say when."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refund_transfer_days__isnull=True)
                | models.Q(refund_transfer_days__gte=1, refund_transfer_days__lte=60),
                name="workspace_refund_transfer_days_1_to_60",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def text(self, field: str, language: str) -> str:
        """A bilingual text in ``language``, falling back to the other one."""
        primary = getattr(self, f"{field}_{'en' if language == 'en' else 'id'}")
        return primary or getattr(self, f"{field}_{'id' if language == 'en' else 'en'}")


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    STAFF = "staff", _("Staff")
    FINANCE = "finance", _("Finance")


class Membership(WorkspaceOwned):
    """A staff member's place in a workspace, with the role that decides what they may do."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_once_per_workspace")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.workspace} ({self.role})"


class StaffProfile(WorkspaceOwned):
    """What clients see of a staff member: the trust signals on public pages."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="staff_profiles")
    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=200)
    photo = models.ImageField(_("photo"), upload_to="staff/", blank=True)
    headline = models.CharField(_("headline"), max_length=200, blank=True)
    bio_id = models.TextField(_("bio (Bahasa Indonesia)"), blank=True)
    bio_en = models.TextField(_("bio (English)"), blank=True)
    years_experience = models.PositiveSmallIntegerField(_("years of experience"), default=0)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Asia/Jakarta")
    is_public = models.BooleanField(_("shown on public pages"), default=True)

    def __str__(self) -> str:
        return self.display_name

    def bio(self, language: str) -> str:
        return (self.bio_en if language == "en" else self.bio_id) or self.bio_id or self.bio_en


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(WorkspaceOwned):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > clock.now()


phone_validator = RegexValidator(r"^\+[1-9][0-9]{7,14}$", _("Use the international form, e.g. +628123456789."))


class Client(WorkspaceOwned):
    """Someone who buys from a workspace. One user may be a client of several workspaces."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="clients")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="client_records"
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("WhatsApp number"), max_length=20, blank=True, validators=[phone_validator])
    company = models.CharField(_("company"), max_length=200, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="id")
    time_zone = models.CharField(max_length=64, default="Asia/Jakarta")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "email"], name="client_email_once_per_workspace")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ApiKey(WorkspaceOwned):
    """A workspace's key for the REST API, sent as ``Authorization: Bearer jasa_<prefix>_<secret>``.

    Only a SHA-256 hash of the whole key is stored: the key is shown once when created. ``role``
    gives the key the capability set of that staff role (an owner key is never issued).
    """

    KEY_ROLES = [(Role.ADMIN, Role.ADMIN.label), (Role.STAFF, Role.STAFF.label), (Role.FINANCE, Role.FINANCE.label)]

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_key = models.CharField(max_length=64)
    role = models.CharField(_("access"), max_length=20, choices=KEY_ROLES, default=Role.ADMIN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (jasa_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def capabilities(self) -> set[str]:
        from jasa.accounts.permissions import CAPABILITIES

        return set(CAPABILITIES.get(self.role, set())) if self.is_active else set()
