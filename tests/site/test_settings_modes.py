"""The settings module in its modes, imported fresh in a child process with a chosen environment."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "t9Qm2vXr8LpZk4Wn7Yc1Hs6Jd3Fb5Ga0Ue-Ri_Oo.Pl9Mk8Nj7Bh6Vg5Cf4Xd3Sz2",
    "ALLOWED_HOSTS": "attune.example.org",
    "SITE_URL": "https://attune.example.org",
}
PROBE = """
import json, attunement_site.settings as s
print(json.dumps({
    "debug": s.DEBUG,
    "engine": s.DATABASES["default"]["ENGINE"],
    "layer": s.CHANNEL_LAYERS["default"]["BACKEND"],
    "cache": s.CACHES["default"]["BACKEND"],
    "broker": s.CELERY_BROKER_URL,
    "email": s.EMAIL_BACKEND,
    "secure_cookies": s.SESSION_COOKIE_SECURE,
}))
"""


def load_settings(tmp_path, probe=PROBE, **environ):
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), **environ}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    return result


def test_no_environment_is_the_embedded_default(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded == {
        "debug": True,
        "engine": "django.db.backends.sqlite3",
        "layer": "channels.layers.InMemoryChannelLayer",
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "broker": f"sqla+sqlite:///{tmp_path}/celery/broker.sqlite3",
        "email": "attunement_site.mail.ConsoleAndFileBackend",
        "secure_cookies": False,
    }
    assert (tmp_path / "celery").is_dir()


def test_database_and_redis_urls_switch_to_postgres_and_redis(tmp_path):
    result = load_settings(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/attunement",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["layer"] == "attunement_site.channel_layers.RedisChannelLayer"
    assert loaded["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["broker"] == "redis://127.0.0.1:6379/0"


def test_production_values_load_with_secure_defaults(tmp_path):
    result = load_settings(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["debug"] is False
    assert loaded["secure_cookies"] is True


def test_debug_off_without_secret_key_fails_naming_it(tmp_path):
    environ = {**PRODUCTION}
    del environ["SECRET_KEY"]
    result = load_settings(tmp_path, **environ)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_off_without_allowed_hosts_fails_naming_it(tmp_path):
    environ = {**PRODUCTION}
    del environ["ALLOWED_HOSTS"]
    result = load_settings(tmp_path, **environ)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_malformed_value_stops_startup_naming_the_variable(tmp_path):
    result = load_settings(tmp_path, DEBUG="sometimes")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr
    result = load_settings(tmp_path, REDIS_URL="localhost:6379")
    assert "REDIS_URL must be a URL starting with one of: redis, rediss" in result.stderr


def test_check_deploy_is_clean_with_production_values(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path), **PRODUCTION}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
