from celery import shared_task

from moderation import services


@shared_task(ignore_result=True)
def lift_suspensions() -> int:
    """End suspensions whose time has passed. Idempotent: a second run finds nothing to do."""
    return services.lift_suspensions()
