"""The ASGI entry point: HTTP goes to Django, WebSockets to the room consumers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attunement_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry loaded above)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from sharing.routing import websocket_urlpatterns  # noqa: E402
from sharing.web_clock import with_room_clock  # noqa: E402

# With the in-memory channel layer, the room clock runs in this process (see sharing/web_clock.py).
application = with_room_clock(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    )
)
