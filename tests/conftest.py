"""Fixtures shared by the whole suite: personas, service requirements and the CI rule on skips."""

import functools
import os
import time

import pytest
from django.conf import settings
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(items):
    # Playwright's sync API keeps an event loop running in this thread for as long as the browser
    # is open, which no async test can share: browser tests run last.
    items.sort(key=lambda item: "tests/e2e/" in str(item.fspath))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # Under CI a skipped test means a service or tool was missing: that is a failure, not a pass.
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"Skipped under CI=true, which counts as a failure: {reason}"


@pytest.fixture(autouse=True)
def _required_services(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if request.node.get_closest_marker("redis") and not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://...")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """An empty cache for each test. On Redis only the cache's own keys go: FLUSHDB would also wipe
    the channel layer's groups and Celery's queue, which server processes may be using."""
    from django.core.cache import cache

    prefix = settings.CACHES["default"].get("KEY_PREFIX")
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache") and prefix:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
    yield


def password_hash(password: str) -> str:
    """Hash each test password once: hashing is slow on purpose, and server processes must verify it.
    Once per set of hashers: a module that switches to a fast hasher must not leave its hash to
    tests that check passwords with the usual ones."""
    return _password_hash(password, tuple(settings.PASSWORD_HASHERS))


@functools.cache
def _password_hash(password: str, hashers: tuple[str, ...]) -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(password)


def make_person(email, *, display_name=None, password="attune-test-pw", verified=True, **fields):
    from allauth.account.models import EmailAddress

    from accounts.models import User

    user = User.objects.create_user(
        email=email, password=None, display_name=display_name or email.split("@")[0].title(), **fields
    )
    user.password = password_hash(password)
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enable_two_factor(user, secret: str = TEST_TOTP_SECRET):
    """Staff and community owners must have two-factor login; personas who are get it here."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)
    return user


def totp_code(secret: str = TEST_TOTP_SECRET) -> str:
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def person(db):
    """A factory for people: person("name@example.com", time_zone="Europe/Berlin")."""
    return make_person


@pytest.fixture
def member(db):
    return make_person("member@example.com", display_name="Maya")


@pytest.fixture
def outsider(db):
    return make_person("outsider@example.com", display_name="Olu")


@pytest.fixture
def staff(db):
    return enable_two_factor(make_person("staff@example.com", display_name="Staff", is_staff=True, is_superuser=True))


@pytest.fixture
def circle(db):
    """A community with every persona: see tests/personas.py."""
    from tests.personas import build_circle

    return build_circle()


@pytest.fixture(scope="session")
def live_server_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """One web process for the whole session, on the test database."""
    from tests.processes import WebServer, server_environment

    var_dir = tmp_path_factory.mktemp("server-var")
    with django_db_blocker.unblock():
        env = server_environment(var_dir)
    server = WebServer(env, var_dir)
    try:
        server.wait_ready()
        server.var_dir = var_dir
        yield server
    finally:
        server.stop()


@pytest.fixture
def site(live_server_process, transactional_db):
    """The live site with an empty database that this test fills and commits."""
    yield live_server_process
    _wait_until_the_server_is_quiet()


QUIET_FOR = 0.5  # seconds without a query in flight: the sockets of closed browsers have been handled


def _wait_until_the_server_is_quiet(seconds: float = 10.0) -> None:
    """Before the database is emptied for the next test, let the server finish what closing browsers
    set off (leaving rooms, ticks): emptying tables under a running transaction can deadlock."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + seconds
    quiet_since = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
            busy = cursor.fetchone()[0]
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= QUIET_FOR:
                return
            time.sleep(0.02)


@pytest.fixture
def room(circle):
    """A call about to start, with its facilitator, co-facilitator and three members who RSVP'd:
    see tests/rooms.py."""
    from tests.rooms import build_room

    return build_room(circle)
