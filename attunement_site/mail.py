"""The embedded default's email backend: each message goes to its own .eml file under var/mail/,
which a person can open, and the log says where in one line."""

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

logger = logging.getLogger("attunement.mail")


class ConsoleAndFileBackend(BaseEmailBackend):
    """Writes every message to its own .eml file under EMAIL_FILE_PATH and logs one line for it.
    (The body is not printed: the Celery worker would log it line by line.)"""

    def send_messages(self, email_messages):
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\r\n"))
            logger.info("email saved to %s: %s", path, message.subject)
            sent += 1
        return sent
