from django.db import migrations

from groups.formats import (
    DEFAULT_FORMAT_DESCRIPTION,
    DEFAULT_FORMAT_NAME,
    DEFAULT_GRACE_SECONDS,
    default_segments,
)


def create_default_format(apps, schema_editor):
    CallFormat = apps.get_model("groups", "CallFormat")
    CallFormat.objects.get_or_create(
        community=None,
        name=DEFAULT_FORMAT_NAME,
        defaults={
            "description": DEFAULT_FORMAT_DESCRIPTION,
            "segments": default_segments(),
            "grace_seconds": DEFAULT_GRACE_SECONDS,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("groups", "0001_initial")]

    operations = [migrations.RunPython(create_default_format, migrations.RunPython.noop)]
