from celery import shared_task

from groups.services import delivery
from groups.services.scheduling import series_materialise_all


@shared_task(ignore_result=True)
def materialise_series() -> int:
    """Keep every series' calls created ten weeks ahead. Idempotent: a second run creates nothing."""
    return series_materialise_all()


@shared_task(ignore_result=True)
def dispatch_notifications() -> dict:
    """Send due reminders and notices. A second beat running this at the same time sends nothing
    twice: rows are claimed with SKIP LOCKED and marked in the same transaction."""
    return delivery.dispatch()
