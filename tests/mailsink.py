"""A real SMTP server on a free local port that keeps what it accepts: for tests and benchmarks.

    with MailSink() as sink:                  # EMAIL_HOST=127.0.0.1, EMAIL_PORT=sink.port
        ...
        sink.wait_for(lambda received: len(received) >= 3, timeout=60)

It is aiosmtpd's Controller (its own thread and event loop), so the processes under test talk real
SMTP to it. `delay` makes every message take that long to be accepted (a slow provider), without
holding up other connections. Each accepted message is recorded with its envelope recipients, the
wall-clock time of the 250 reply, the client's address and, unless `keep_content=False`, its bytes.
No Django here: benchmarks import it before settings exist.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    recipients: tuple[str, ...]
    at: float  # time.time() when the server accepted it
    peer: tuple
    content: bytes | None


class MailSink:
    def __init__(self, *, delay: float = 0.0, keep_content: bool = True, port: int | None = None):
        self.delay = delay
        self.keep_content = keep_content
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # aiosmtpd calls this for each message, in the controller's event loop.
    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        record = Received(
            recipients=tuple(address.lower() for address in envelope.rcpt_tos),
            at=time.time(),
            peer=tuple(session.peer or ()),
            content=bytes(envelope.content) if self.keep_content else None,
        )
        with self._lock:
            self._received.append(record)
        return "250 Message accepted for delivery"

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def per_recipient(self) -> Counter:
        with self._lock:
            return Counter(address for record in self._received for address in record.recipients)

    def wait_for(self, condition: Callable[[list[Received]], bool], *, timeout: float, poll: float = 0.1, why=None):
        """Poll until condition(received) holds; on timeout raise AssertionError with `why()` if given."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.received()
            if condition(received):
                return received
            if time.monotonic() > deadline:
                detail = why() if why is not None else ""
                raise AssertionError(f"the SMTP sink had {len(received)} messages after {timeout}s\n{detail}")
            time.sleep(poll)
