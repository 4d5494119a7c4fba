from django.db import migrations

DEFAULTS = [
    (
        "Everywhere",
        "Emergency services",
        "",
        "If you or someone else is in immediate danger, call your local emergency number.",
    ),
    ("European Union", "Emergency number", "112", "Free, from any phone, in every EU country."),
    ("United States", "988 Suicide & Crisis Lifeline", "988", "Call or text, any time."),
    ("United Kingdom and Ireland", "Samaritans", "116 123", "Free, any time."),
    ("Germany", "TelefonSeelsorge", "0800 111 0 111", "Free and anonymous, any time."),
]


def create(apps, schema_editor):
    CrisisResource = apps.get_model("moderation", "CrisisResource")
    if CrisisResource.objects.filter(community__isnull=True).exists():
        return
    for position, (country, name, phone, text) in enumerate(DEFAULTS):
        CrisisResource.objects.create(country=country, name=name, phone=phone, text=text, position=position)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
