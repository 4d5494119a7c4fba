# The site-ban model now belongs to accounts (accounts/migrations/0005); its table stays.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0003_audit_log_moves_to_core"),
        ("accounts", "0005_site_ban_moves_to_accounts"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="SiteBan")],
        ),
    ]
