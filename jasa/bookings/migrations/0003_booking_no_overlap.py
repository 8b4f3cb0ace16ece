"""No double booking, enforced by PostgreSQL: an exclusion constraint over (staff, tstzrange(block_start,
block_end)) for the statuses that occupy time (a hold or a confirmed booking). ``block_start`` and
``block_end`` are the session widened by the offer's buffers (start - buffer_before, end + buffer_after).

Only PostgreSQL has exclusion constraints (and needs btree_gist for ``staff WITH =``); on SQLite this
migration does nothing and the services serialize holds per staff member instead. The model state
does not carry the constraint, so SQLite never sees it.
"""

from django.db import migrations

NAME = "booking_no_overlap_per_staff"
BLOCKING = ["awaiting_deposit", "confirmed"]


def _constraint():
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
    from django.db.models import Func, Q

    class TsTzRange(Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    return ExclusionConstraint(
        name=NAME,
        expressions=[("staff", RangeOperators.EQUAL), (TsTzRange("block_start", "block_end"), RangeOperators.OVERLAPS)],
        condition=Q(status__in=BLOCKING),
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.add_constraint(apps.get_model("bookings", "Booking"), _constraint())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_constraint(apps.get_model("bookings", "Booking"), _constraint())


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0002_booking"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
