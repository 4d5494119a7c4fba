"""/metrics in Prometheus' text format. Counts come from the database, so every process reports
the same, site-wide numbers; a scraper needs only one of them."""

from __future__ import annotations

import contextlib
import hmac
import sqlite3

from django.conf import settings
from django.db.models import Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from groups.models import Notification
from sharing.selectors import room_counts


def _broker_queue_depth() -> float:
    """Tasks waiting in Celery's default queue, or NaN when the broker cannot say."""
    url = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            return float(redis.Redis.from_url(url, socket_timeout=2).llen("celery"))
        if url.startswith("sqla+sqlite://"):
            path = url.removeprefix("sqla+sqlite:///")
            try:
                with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)) as db:
                    (waiting,) = db.execute(
                        "SELECT count(*) FROM kombu_message m JOIN kombu_queue q ON q.id = m.queue_id"
                        " WHERE q.name = 'celery' AND m.visible"
                    ).fetchone()
            except sqlite3.OperationalError as error:  # no file or no tables yet: nothing was ever sent
                if "unable to open" in str(error) or "no such table" in str(error):
                    return 0.0
                raise
            return float(waiting)
    except Exception:  # a metric that cannot be read is reported as NaN
        return float("nan")
    return float("nan")


def collect(now=None) -> list[tuple[str, str, str, float]]:
    """(name, type, help, value) for every metric."""
    now = now or timezone.now()
    due = Notification.objects.filter(state=Notification.State.PENDING, due_at__lte=now)
    oldest_due = due.aggregate(oldest=Min("due_at"))["oldest"]
    lag = (now - oldest_due).total_seconds() if oldest_due else 0.0
    rooms = room_counts()
    return [
        (
            "attunement_open_sockets",
            "gauge",
            "People connected to a room right now.",
            float(rooms.open_sockets),
        ),
        (
            "attunement_live_rooms",
            "gauge",
            "Rooms whose call is in progress or paused.",
            float(rooms.live_rooms),
        ),
        (
            "attunement_turn_advances_total",
            "counter",
            "Turns that have ended, since the beginning.",
            float(rooms.turns_ended),
        ),
        (
            "attunement_sweep_failures_total",
            "counter",
            "Times the room clock failed to tick a room (each is logged with the room's id).",
            float(rooms.sweep_failures),
        ),
        (
            "attunement_reminder_lag_seconds",
            "gauge",
            "How long the oldest due, unsent notification has been waiting.",
            lag,
        ),
        (
            "attunement_notifications_failed_total",
            "counter",
            "Notifications that failed after every retry.",
            float(Notification.objects.filter(state=Notification.State.FAILED).count()),
        ),
        (
            "attunement_notifications_due",
            "gauge",
            "Notifications due and not yet sent.",
            float(due.count()),
        ),
        ("attunement_celery_queue_depth", "gauge", "Tasks waiting in Celery's queue.", _broker_queue_depth()),
    ]


def render(metrics) -> str:
    lines = []
    for name, kind, text, value in metrics:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    return "\n".join(lines) + "\n"


@never_cache
def metrics_view(request):
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse(
            "Unauthorized\n", status=401, content_type="text/plain", headers={"WWW-Authenticate": "Bearer"}
        )
    return HttpResponse(render(collect()), content_type="text/plain; version=0.0.4; charset=utf-8")
