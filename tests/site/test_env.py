import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import Env


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("no", False), ("0", False)])
def test_bool_accepts_common_spellings(raw, expected):
    assert Env({"DEBUG": raw}).bool("DEBUG", default=not expected) is expected


def test_bool_uses_the_default_when_unset_or_blank():
    assert Env({}).bool("DEBUG", default=True) is True
    assert Env({"DEBUG": "  "}).bool("DEBUG", default=False) is False


def test_bool_rejects_other_values_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false.*'maybe'"):
        Env({"DEBUG": "maybe"}).bool("DEBUG", default=False)


def test_int_rejects_words_and_out_of_range_values():
    env = Env({"EMAIL_PORT": "smtp", "SECURE_HSTS_SECONDS": "-5", "BIG": "70000"})
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT must be a whole number"):
        env.int("EMAIL_PORT", 25)
    with pytest.raises(ImproperlyConfigured, match="SECURE_HSTS_SECONDS must be at least 0"):
        env.int("SECURE_HSTS_SECONDS", 0, minimum=0)
    with pytest.raises(ImproperlyConfigured, match="BIG must be at most 65535"):
        env.int("BIG", 1, maximum=65535)
    assert Env({"EMAIL_PORT": "2525"}).int("EMAIL_PORT", 25) == 2525


def test_list_splits_on_commas_and_rejects_empty_items():
    assert Env({"ALLOWED_HOSTS": "a.org, b.org"}).list("ALLOWED_HOSTS") == ["a.org", "b.org"]
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS has an empty item"):
        Env({"ALLOWED_HOSTS": "a.org,,b.org"}).list("ALLOWED_HOSTS")
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS must be set"):
        Env({}).list("ALLOWED_HOSTS", required=True)


def test_url_checks_scheme_host_and_port():
    env = Env(
        {
            "DATABASE_URL": "mysql://db/x",
            "REDIS_URL": "redis://:6379",
            "SITE_URL": "https://x.org:port",
            "GOOD": "redis://127.0.0.1:6379/0",
        }
    )
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be a URL starting with one of: postgres"):
        env.url("DATABASE_URL", {"postgres", "sqlite"})
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must name a host"):
        env.url("REDIS_URL", {"redis"})
    with pytest.raises(ImproperlyConfigured, match="SITE_URL has a malformed port"):
        env.url("SITE_URL", {"https"})
    assert env.url("GOOD", {"redis"}) == "redis://127.0.0.1:6379/0"
    assert env.url("MISSING", {"redis"}, "redis://x") == "redis://x"


def test_choice_and_json_name_the_variable():
    with pytest.raises(ImproperlyConfigured, match="LOG_LEVEL must be one of: DEBUG, INFO; got 'loud'"):
        Env({"LOG_LEVEL": "loud"}).choice("LOG_LEVEL", {"DEBUG", "INFO"}, "INFO")
    with pytest.raises(ImproperlyConfigured, match="ICE_SERVERS is not valid JSON"):
        Env({"ICE_SERVERS": "[{"}).json("ICE_SERVERS")
    assert Env({"ICE_SERVERS": '[{"urls": "stun:x"}]'}).json("ICE_SERVERS") == [{"urls": "stun:x"}]
