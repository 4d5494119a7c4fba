from django.urls import path

from sharing.consumers import RoomConsumer

websocket_urlpatterns = [
    path("ws/calls/<int:call_id>/", RoomConsumer.as_asgi()),
]
