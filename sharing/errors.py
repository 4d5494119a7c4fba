class RoomError(Exception):
    """A request the room refuses. `code` is machine-readable and goes to the client as is."""

    def __init__(self, code: str, message: str = "", version: int | None = None):
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.version = version
