"""The baseline for `make bench-room`: a bare Channels consumer that only fans out, on the same Redis
channel layer, so that the room's own overhead shows as a ratio.

A socket at /ws/baseline/<group>/ joins that group; every text frame it sends is group_sent, and
each member of the group sends it on unchanged. No authentication, no database, no parsing.
Served by the Procfile's uvicorn line with this module's `application` in place of the site's.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attunement_site.settings")
django.setup()  # for settings.CHANNEL_LAYERS: the same Redis, capacity and expiry as the site

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class RelayConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = f"baseline.{self.scope['url_route']['kwargs']['group']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send(self.group, {"type": "relay", "text": text_data})

    async def relay(self, event):
        await self.send(text_data=event["text"])


async def health(scope, receive, send):
    """HTTP answers 200 to everything, so that the benchmark can tell the process is up."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter(
    {
        "http": health,
        "websocket": URLRouter([path("ws/baseline/<str:group>/", RelayConsumer.as_asgi())]),
    }
)
