"""Demo data of bookings: the "Konsultasi 60 menit" offer, bookable on weekdays 09:00–17:00 (Asia/Jakarta)."""

from __future__ import annotations

import datetime as dt

from jasa.core.demo import demo_part

OFFER_SLUG = "konsultasi-60-menit"


@demo_part(order=40)
def load_bookings_demo(workspace, people) -> None:
    from jasa.accounts.models import Membership, Role
    from jasa.bookings.models_availability import WorkingHours
    from jasa.catalog.services import offer_create

    staff = list(Membership.objects.filter(workspace=workspace, role__in=[Role.OWNER, Role.STAFF], is_active=True))
    for membership in staff:
        if WorkingHours.objects.filter(membership=membership).exists():
            continue
        WorkingHours.objects.bulk_create([
            WorkingHours(workspace=workspace, membership=membership, weekday=day, start_time=dt.time(9),
                         end_time=dt.time(17))
            for day in range(5)
        ])
    if _offer_exists(workspace):
        return
    offer_create(
        workspace=workspace, staff=staff,
        name_id="Konsultasi 60 menit", name_en="60-minute consultation",
        description_id="Sesi konsultasi satu jam lewat video call untuk membahas strategi digital bisnis Anda.",
        description_en="A one-hour video consultation about your business's digital strategy.",
        slug=OFFER_SLUG, duration_minutes=60, price_amount=500_000, currency="IDR", deposit_kind="percent",
        deposit_percent=20, slot_interval_minutes=60, location_kind="video",
        location_detail="https://meet.jit.si/jasa-demo-konsultasi",
        questions=[{"key": "topic", "label_id": "Apa yang ingin dibahas?", "label_en": "What would you like to discuss?",
                    "required": False}],
        reminder_offsets_minutes=[1440, 60], reminder_channels=["email", "whatsapp"],
    )


def _offer_exists(workspace) -> bool:
    from jasa.catalog.models import ConsultationOffer

    return ConsultationOffer.objects.filter(workspace=workspace, slug=OFFER_SLUG).exists()
