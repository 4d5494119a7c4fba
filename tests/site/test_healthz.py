import pytest
from django.test import override_settings

from attunement_site.celery import app as celery_app

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.mark.django_db
def test_healthz_reports_every_component_fine_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "cache", "channel_layer", "broker"}
    assert all(component["ok"] for component in body["components"].values())
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_is_down(client):
    dead_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    with override_settings(CACHES=dead_cache):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["components"]["cache"]["ok"] is False
    assert body["components"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_url", DEAD_REDIS)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_healthz_is_503_when_the_channel_layer_is_down(client):
    dead_layer = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [DEAD_REDIS]}}}
    with override_settings(CHANNEL_LAYERS=dead_layer):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["channel_layer"]["ok"] is False
