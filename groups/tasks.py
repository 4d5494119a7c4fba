from celery import shared_task

from groups.services.scheduling import series_materialise_all


@shared_task(ignore_result=True)
def materialise_series() -> int:
    """Keep every series' calls created ten weeks ahead. Idempotent: a second run creates nothing."""
    return series_materialise_all()
