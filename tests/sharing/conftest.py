"""Socket fixtures for the room tests; the `room` fixture itself is in tests/conftest.py."""

import pytest

from tests.sharing.sockets import sockets  # noqa: F401 (a fixture for the socket tests)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A channel layer per test: channels_redis binds its locks to the event loop that first used it."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
