import math

import pytest
from django.test import override_settings

from groups.models import Notification
from sharing import services


@pytest.mark.django_db
def test_metrics_are_hidden_without_a_token_and_refused_with_a_wrong_one(client):
    with override_settings(METRICS_TOKEN=""):
        assert client.get("/metrics").status_code == 404
    with override_settings(METRICS_TOKEN="right-token"):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


@override_settings(METRICS_TOKEN="right-token")
def test_metrics_report_sockets_rooms_turns_reminders_and_the_queue(client, room):
    room.enter(room.facilitator, room.maya)
    room.act(room.facilitator, "call.start")
    room.act(room.facilitator, "segment.next")
    room.act(room.facilitator, "turn.finish")
    Notification.objects.filter(recipient=room.maya).update(state="failed")
    response = client.get("/metrics", headers={"Authorization": "Bearer right-token"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    values = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split()
            values[name] = float(value)
    assert values["attunement_open_sockets"] == 2
    assert values["attunement_live_rooms"] == 1
    assert values["attunement_turn_advances_total"] == 1
    assert values["attunement_notifications_failed_total"] == Notification.objects.filter(state="failed").count() > 0
    assert values["attunement_reminder_lag_seconds"] >= 0
    assert not math.isnan(values["attunement_celery_queue_depth"])
    services.room_leave(call_id=room.call.pk, user=room.maya)
