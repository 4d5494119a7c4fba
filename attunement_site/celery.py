"""The Celery application. Tasks take ids and call one service; the schedule lives in settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attunement_site.settings")

app = Celery("attunement")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
