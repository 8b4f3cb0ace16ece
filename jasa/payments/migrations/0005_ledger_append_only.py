from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0004_webhook_event_partial_fk_indexes'),
    ]

    operations = []
