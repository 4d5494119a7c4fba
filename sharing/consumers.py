from channels.generic.websocket import AsyncJsonWebsocketConsumer


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """The live room's socket. The room itself arrives with the live-room work; until then it refuses."""

    async def connect(self):
        await self.close(code=4404)
