import logging

from celery import shared_task

from sharing import services

logger = logging.getLogger("attunement.clock")


@shared_task(ignore_result=True)
def sweep_rooms() -> int:
    """Advance every room whose deadline has passed or whose speaker has gone; harmless to run twice.
    It logs only when it moved a room on."""
    moved = services.sweep()
    if moved:
        logger.info("room sweep moved %d room(s) on", moved)
    return moved
