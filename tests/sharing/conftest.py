"""Fixtures for the room tests: a started room, the clock and sockets; `room` itself is in tests/conftest.py."""

import pytest
from django.utils import timezone

from tests.rooms import at
from tests.sharing.sockets import sockets  # noqa: F401 (a fixture for the socket tests)


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def started(room, t0):
    """Everyone in, the call started, and the grounding skipped: the check-in round is running."""
    room.enter(*room.everyone, now=t0)
    room.act(room.facilitator, "call.start", now=t0)
    room.act(room.facilitator, "segment.next", now=at(t0, 1))
    return room


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A channel layer per test: channels_redis binds its locks to the event loop that first used it."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _no_clock_in_tests(settings):
    """Tests move time themselves; the web process's room clock runs only where a test asks for it."""
    settings.ROOM_CLOCK_IN_WEB = False
