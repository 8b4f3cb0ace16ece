"""Every write about offers."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.text import slugify

from jasa.catalog.models import ConsultationOffer
from jasa.core import audit
from jasa.core.errors import ValidationError

OFFER_FIELDS = (
    "name_id", "name_en", "description_id", "description_en", "slug", "is_active", "duration_minutes",
    "price_amount", "currency", "deposit_kind", "deposit_percent", "deposit_fixed_amount", "balance_due",
    "balance_due_hours_before", "location_kind", "location_detail", "create_meet_link", "buffer_before_minutes",
    "buffer_after_minutes", "min_notice_minutes", "horizon_days", "slot_interval_minutes", "daily_limit",
    "weekly_limit", "questions", "hold_minutes", "free_reschedule_hours", "refund_until_hours", "refund_percent",
    "no_show_charges_balance", "reminder_offsets_minutes", "reminder_channels",
)


def _check(offer: ConsultationOffer) -> None:
    try:
        offer.full_clean(exclude=["workspace"])
    except DjangoValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationError(" ".join(messages), field=field)


def _unique_slug(workspace, base: str, exclude=None) -> str:
    base = slugify(base)[:70] or "konsultasi"
    slug, n = base, 2
    qs = ConsultationOffer.objects.filter(workspace=workspace)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    while qs.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def offer_create(*, workspace, staff=(), **fields) -> ConsultationOffer:
    unknown = set(fields) - set(OFFER_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    fields["slug"] = _unique_slug(workspace, fields.get("slug") or fields.get("name_id", ""))
    fields.setdefault("currency", workspace.currency)
    offer = ConsultationOffer(workspace=workspace, **fields)
    _check(offer)
    offer.save()
    _set_staff(offer, staff)
    audit.record(offer, "offer.created", after={f: getattr(offer, f) for f in ("name_id", "price_amount", "slug")})
    return offer


def _set_staff(offer: ConsultationOffer, staff) -> None:
    members = [m for m in staff if m.workspace_id == offer.workspace_id]
    offer.staff.set(members)


@transaction.atomic
def offer_update(*, offer: ConsultationOffer, staff=None, **fields) -> ConsultationOffer:
    unknown = set(fields) - set(OFFER_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    offer = ConsultationOffer.objects.select_for_update().get(pk=offer.pk)
    before = {f: getattr(offer, f) for f in fields}
    for name, value in fields.items():
        setattr(offer, name, value)
    if "slug" in fields:
        offer.slug = _unique_slug(offer.workspace, offer.slug or offer.name_id, exclude=offer.pk)
    _check(offer)
    offer.save()
    if staff is not None:
        _set_staff(offer, staff)
    after = {f: getattr(offer, f) for f in fields}
    changed = {f for f in fields if before[f] != after[f]}
    if changed or staff is not None:
        audit.record(offer, "offer.updated", before={f: before[f] for f in changed}, after={f: after[f] for f in changed})
    return offer
