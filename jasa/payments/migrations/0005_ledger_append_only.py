"""The ledger is append-only in the database (jasa.payments.ledger_guard), amounts are not negative, a
payment keeps the gateway fee recorded at its capture, and the scheduled ledger check records its runs.

The guard is installed last: on SQLite adding the amount constraint rebuilds the ledger table, which
drops the table's triggers.
"""

from django.db import migrations, models

import jasa.core.clock
from jasa.payments import ledger_guard


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0004_webhook_event_partial_fk_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='paymentintent',
            name='fee_amount',
            field=models.BigIntegerField(blank=True, help_text="the gateway fee recorded at capture (the gateway's, else the fee rules')", null=True),
        ),
        migrations.AddConstraint(
            model_name='paymentintent',
            constraint=models.CheckConstraint(condition=models.Q(('fee_amount__isnull', True), ('fee_amount__gte', 0), _connector='OR'), name='payment_fee_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='ledger_amount_not_negative'),
        ),
        migrations.CreateModel(
            name='LedgerCheck',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('started_at', models.DateTimeField(db_index=True, default=jasa.core.clock.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('workspaces', models.PositiveIntegerField(default=0)),
                ('invoices', models.PositiveIntegerField(default=0)),
                ('problem_count', models.PositiveIntegerField(default=0)),
                ('problems', models.JSONField(blank=True, default=list, help_text='[{"workspace": slug, "problem": text}], the first 200')),
            ],
            options={
                'ordering': ['-started_at', '-id'],
            },
        ),
        migrations.RunPython(ledger_guard.install, ledger_guard.uninstall),
    ]
