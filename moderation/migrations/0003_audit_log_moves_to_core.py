# The audit log's model now belongs to core (core/migrations/0001_initial.py); its table stays.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_default_crisis_resources"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
        ),
    ]
