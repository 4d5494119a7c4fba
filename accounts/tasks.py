from celery import shared_task

from accounts import privacy


@shared_task(ignore_result=True)
def erase_due_accounts() -> int:
    """Erase accounts whose 7-day grace period has passed. Idempotent."""
    return privacy.erase_due()
