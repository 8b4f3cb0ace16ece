"""The demo workspace `demo`: what `jasa serve` loads into an empty database.

Each domain adds its part through :func:`demo_part` so this file does not grow with every app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

DEMO_PASSWORD = "demo-password-123"
DEMO_SLUG = "demo"
# The two staff members shown on the public page /demo/.
DEMO_HEADLINES = {"owner": "Pendiri & konsultan strategi merek", "staff": "Konsultan bisnis digital"}

_parts: list[tuple[int, Callable]] = []


def demo_part(order: int):
    """Register a function(workspace, people) that adds one domain's demo data."""

    def register(fn):
        _parts.append((order, fn))
        return fn

    return register


@transaction.atomic
def demo_load(refresh: bool = False, progress: Callable[[str], None] = print) -> list[tuple[str, str]]:
    from django.contrib.auth import get_user_model
    from django.utils.module_loading import autodiscover_modules

    from jasa.accounts.models import Client, Membership, Role, StaffProfile, Workspace

    autodiscover_modules("demo")
    User = get_user_model()
    existing = Workspace.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None and not refresh:
        return []
    if existing is not None:
        _archive(existing)
    ws = Workspace.objects.create(
        name="Studio Demo", slug=DEMO_SLUG, legal_name="PT Studio Demo Indonesia",
        address="Jl. Sudirman No. 1, Jakarta 10220", email="halo@demo.jasa.local", time_zone="Asia/Jakarta",
        currency="IDR", languages=["id", "en"],
        refund_policy_id="Uang muka dikembalikan penuh bila dibatalkan paling lambat 24 jam sebelum sesi.",
        refund_policy_en="The deposit is refunded in full when you cancel at least 24 hours before the session.",
    )
    people: dict[str, Any] = {}
    staff_data = [
        (Role.OWNER, "owner@demo.jasa.local", "Ayu Lestari", None),
        (Role.ADMIN, "admin@demo.jasa.local", "Rudi Admin", None),
        (Role.STAFF, "staff@demo.jasa.local", "Dimas Pratama",
         ("Konsultan bisnis digital dengan 8 tahun pengalaman membantu UMKM go-online.",
          "Digital business consultant with 8 years helping small businesses go online.", 8,
          ["Google Analytics Certified", "Certified Scrum Master"])),
        (Role.FINANCE, "finance@demo.jasa.local", "Sari Keuangan", None),
    ]
    for role, email, name, profile in staff_data:
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, name=name)
        user.set_password(DEMO_PASSWORD)
        user.save()
        _verify_email(user)
        membership = Membership.objects.create(workspace=ws, user=user, role=role)
        public = role in (Role.OWNER, Role.STAFF)
        bio_id, bio_en, years, certs = profile or (
            "Pendiri studio; konsultan strategi merek dan pemasaran digital.",
            "Studio founder; brand strategy and digital marketing consultant.", 12, ["Certified Digital Marketer"],
        )
        StaffProfile.objects.create(
            workspace=ws, membership=membership, display_name=name, is_public=public, bio_id=bio_id, bio_en=bio_en,
            years_experience=years, certifications=certs, languages=["id", "en"], headline=DEMO_HEADLINES.get(role, ""),
        )
        people[role] = user
    client_user = User.objects.filter(email="client@demo.jasa.local").first() or User.objects.create_user(
        email="client@demo.jasa.local", name="Budi Klien")
    client_user.set_password(DEMO_PASSWORD)
    client_user.save()
    _verify_email(client_user)
    Client.objects.create(workspace=ws, user=client_user, name="Budi Klien", email=client_user.email,
                          phone="+628123456789")
    people["client"] = client_user
    for _, fn in sorted(_parts, key=lambda p: p[0]):
        progress(f"   demo: {fn.__module__.split('.')[1]}")
        fn(ws, people)
    return [(str(role), user.email) for role, user in people.items()]


def _archive(workspace) -> None:
    """Move the old demo aside instead of deleting it: invoices, payments and the ledger are
    append-only records that must not vanish, even in a demo. Its pending obligations stop."""
    from jasa.core.models import ScheduledJob

    stamp = workspace.id.hex[:8]
    workspace.slug = f"{DEMO_SLUG}-old-{stamp}"
    workspace.name = f"{workspace.name} (old {stamp})"
    workspace.save(update_fields=["slug", "name", "updated_at"])
    ScheduledJob.objects.filter(workspace=workspace, status=ScheduledJob.PENDING).update(
        status=ScheduledJob.CANCELED
    )


def _verify_email(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
