"""Server-side latency of the busiest pages on a database the size of a year of a real site.

    make bench-pages                      # SQLite: a separate file, VAR_DIR/bench.sqlite3
    DATABASE_URL=postgres://... make bench-pages   # PostgreSQL: a separate database, <name>_bench

Django runs in this process with the configured settings, pointed at a scratch database that is
created, migrated and seeded once (10,000 calls, 2,000 members, ~40,000 RSVPs) and reused by later
runs. Each page is requested 20 times to warm up and then 200 times through django.test.Client,
as members who are logged in. The last line printed is one JSON object with the results.

The insights page is measured on its own community: two years of weekly calls (104), each with ten
members who RSVP'd, most of whom came, shared and checked out, and the timings of three segments
(journey.demo.seed_history, as the demo's history), viewed by its facilitator over the longest
period offered (24 months).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.databases import scratch_database_url

ROOT = Path(__file__).resolve().parents[1]

COMMUNITIES = 5
SERIES_PER_COMMUNITY = 10
CALLS_PER_SERIES = 200  # weekly: about two years back and two years ahead
MEMBERS = 2_000
RSVPS_PER_MEMBER = 20
COMMUNITIES_PER_MEMBER = 2
RSVP_WINDOW_WEEKS = 40  # members RSVP to calls within this many weeks of the seeding day
CAPACITY = 12
WARM_UP = 20
REQUESTS = 200
VIEWERS = 20  # requests rotate over this many logged-in members
UNUSABLE_HASH = "!bench-seeded"  # "!" marks an unusable password: nobody can log in with it
SLUG_PREFIX = "bench-"
INSIGHTS_SLUG = "insights-bench"  # outside SLUG_PREFIX: the main seed's checks leave it alone
INSIGHTS_WEEKS = 104
INSIGHTS_MEMBERS = 10
EMAIL_DOMAIN = "bench.invalid"


def say(message: str) -> None:
    print(f"[bench-pages] {message}", flush=True)


def configure() -> None:
    """Point the settings at the scratch database, then start Django."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "attunement_site.settings"
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = scratch_database_url(url, "_bench", say)
    else:
        var_dir = Path(os.environ.get("VAR_DIR") or ROOT / "var").resolve()
        var_dir.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"

    import django

    django.setup()


def _expected_counts() -> dict[str, int]:
    return {
        "calls": COMMUNITIES * SERIES_PER_COMMUNITY * CALLS_PER_SERIES,
        "members": MEMBERS,
    }


def _seeded() -> bool:
    from accounts.models import User
    from groups.models import Call, Community

    expected = _expected_counts()
    communities = Community.objects.filter(slug__startswith=SLUG_PREFIX)
    if not communities.exists():
        return False
    calls = Call.objects.filter(community__in=communities).count()
    members = User.objects.filter(email__startswith="member-", email__endswith=f"@{EMAIL_DOMAIN}").count()
    if calls == expected["calls"] and members == expected["members"]:
        return True
    say(f"found an incomplete seed ({calls} calls, {members} members): removing it")
    _unseed()
    return False


def _unseed() -> None:
    from accounts.models import User
    from groups.models import Community

    # Calls and series protect their facilitators: they go first, with their communities.
    Community.objects.filter(slug__startswith=SLUG_PREFIX).delete()
    Community.objects.filter(slug=INSIGHTS_SLUG).delete()
    User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()


def seed() -> None:
    from django.db import transaction

    from accounts.models import User
    from groups.models import RSVP, Agreement, Call, Community, Membership, Series
    from groups.models.communities import DEFAULT_AGREEMENTS
    from groups.services.formats import format_default

    rng = random.Random(20_240_501)
    now = datetime.now(UTC)
    week_start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    started = time.perf_counter()

    with transaction.atomic():
        call_format = format_default()
        communities = Community.objects.bulk_create(
            Community(
                name=f"Bench circle {index}",
                slug=f"{SLUG_PREFIX}{index}",
                description="A community seeded by benchmarks/pages.py.",
                join_policy=Community.JoinPolicy.REQUEST,
            )
            for index in range(COMMUNITIES)
        )
        agreements = str(DEFAULT_AGREEMENTS)
        Agreement.objects.bulk_create(
            Agreement(community=community, version=1, text=agreements) for community in communities
        )
        facilitators = User.objects.bulk_create(
            User(
                email=f"facilitator-{index}@{EMAIL_DOMAIN}",
                display_name=f"Facilitator {index}",
                password=UNUSABLE_HASH,
                time_zone="Europe/Berlin",
            )
            for index in range(COMMUNITIES)
        )
        members = User.objects.bulk_create(
            (
                User(
                    email=f"member-{index:04d}@{EMAIL_DOMAIN}",
                    display_name=f"Member {index}",
                    password=UNUSABLE_HASH,
                    time_zone="Europe/Berlin",
                )
                for index in range(MEMBERS)
            ),
            batch_size=500,
        )
        say(f"seeded {len(communities)} communities and {len(facilitators) + len(members)} people")

        memberships = [
            Membership(
                community=community,
                user=facilitator,
                role=Membership.Role.OWNER,
                state=Membership.State.ACTIVE,
                accepted_agreements_version=1,
            )
            for community, facilitator in zip(communities, facilitators, strict=True)
        ]
        member_communities: dict[int, list[int]] = {}
        for index, member in enumerate(members):
            first = index % COMMUNITIES
            second = (first + 1 + (index // COMMUNITIES) % (COMMUNITIES - 1)) % COMMUNITIES
            member_communities[member.pk] = [first, second][:COMMUNITIES_PER_MEMBER]
            memberships += [
                Membership(
                    community=communities[position],
                    user=member,
                    role=Membership.Role.MEMBER,
                    state=Membership.State.ACTIVE,
                    accepted_agreements_version=1,
                )
                for position in member_communities[member.pk]
            ]
        Membership.objects.bulk_create(memberships, batch_size=1000)
        say(f"seeded {len(memberships)} memberships")

        series_list = []
        for position, community in enumerate(communities):
            for number in range(SERIES_PER_COMMUNITY):
                first_start = week_start + timedelta(weeks=-(CALLS_PER_SERIES // 2), days=number % 7, hours=8 + number)
                series_list.append(
                    Series(
                        community=community,
                        title=f"Circle {position}.{number}",
                        format=call_format,
                        facilitator=facilitators[position],
                        time_zone="UTC",
                        start_date=first_start.date(),
                        start_time=first_start.time(),
                        duration_minutes=75,
                        capacity=CAPACITY,
                        weekdays=[first_start.weekday()],
                        ends=Series.Ends.AFTER_COUNT,
                        count=CALLS_PER_SERIES,
                        materialised_until=first_start + timedelta(weeks=CALLS_PER_SERIES),
                    )
                )
        Series.objects.bulk_create(series_list)

        calls = []
        for series in series_list:
            first_start = datetime.combine(series.start_date, series.start_time, tzinfo=UTC)
            for week in range(CALLS_PER_SERIES):
                starts_at = first_start + timedelta(weeks=week)
                cancelled = rng.random() < 0.02
                calls.append(
                    Call(
                        community=series.community,
                        series=series,
                        original_start=starts_at,
                        title=series.title,
                        format=call_format,
                        facilitator=series.facilitator,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=series.duration_minutes),
                        time_zone=series.time_zone,
                        capacity=series.capacity,
                        status=Call.Status.CANCELLED if cancelled else Call.Status.SCHEDULED,
                        cancelled_at=starts_at - timedelta(days=1) if cancelled else None,
                    )
                )
        calls = Call.objects.bulk_create(calls, batch_size=1000)
        say(f"seeded {len(series_list)} series with {len(calls)} calls")

        window = timedelta(weeks=RSVP_WINDOW_WEEKS)
        rsvp_candidates: dict[int, list[Call]] = {}
        for call in calls:
            if call.status == Call.Status.SCHEDULED and abs(call.starts_at - now) < window:
                rsvp_candidates.setdefault(call.community_id, []).append(call)
        going: dict[int, int] = {}
        rsvps = []
        per_community = RSVPS_PER_MEMBER // COMMUNITIES_PER_MEMBER
        for member in members:
            for position in member_communities[member.pk]:
                for call in rng.sample(rsvp_candidates[communities[position].pk], per_community):
                    responded_at = min(now, call.starts_at - timedelta(days=rng.randint(1, 14)))
                    if rng.random() < 0.1:
                        status = RSVP.Status.NOT_GOING
                    elif going.get(call.pk, 0) < call.capacity:
                        status = RSVP.Status.GOING
                        going[call.pk] = going.get(call.pk, 0) + 1
                    else:
                        status = RSVP.Status.WAITLISTED
                    rsvps.append(
                        RSVP(
                            call=call,
                            user=member,
                            status=status,
                            responded_at=responded_at,
                            waitlisted_at=responded_at if status == RSVP.Status.WAITLISTED else None,
                        )
                    )
        RSVP.objects.bulk_create(rsvps, batch_size=2000)
        say(f"seeded {len(rsvps)} RSVPs")

    say(f"seeding took {time.perf_counter() - started:.1f}s")


def prepare_database() -> None:
    from django.core.management import call_command
    from django.db import connection

    say(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", interactive=False, verbosity=0)
    say("migrated")
    if _seeded():
        say("reusing the seeded data")
    else:
        seed()
        if connection.vendor == "postgresql":
            # What autovacuum would have done by the time a real site had this much data.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            say("analyzed")


def _insights_viewer():
    """The facilitator of a community with two years of weekly calls behind it (seeded once)."""
    from django.db import transaction
    from django.test import Client

    from accounts.models import User
    from groups.models import Community, Membership
    from groups.services.communities import community_create
    from groups.services.formats import format_default
    from journey.demo import seed_history

    facilitator = User.objects.filter(email=f"insights-facilitator@{EMAIL_DOMAIN}").first()
    if not Community.objects.filter(slug=INSIGHTS_SLUG).exists():
        started = time.perf_counter()
        with transaction.atomic():
            facilitator = User.objects.create(
                email=f"insights-facilitator@{EMAIL_DOMAIN}",
                display_name="Insights facilitator",
                password=UNUSABLE_HASH,
            )
            community = community_create(owner=facilitator, name="Bench insights", slug=INSIGHTS_SLUG)
            # A facilitator rather than the owner: owners are asked for two-factor login first.
            Membership.objects.filter(community=community, user=facilitator).update(role=Membership.Role.FACILITATOR)
            members = [
                User.objects.create(
                    email=f"insights-{index}@{EMAIL_DOMAIN}", display_name=f"Insights {index}", password=UNUSABLE_HASH
                )
                for index in range(INSIGHTS_MEMBERS)
            ]
            for member in members:
                Membership.objects.create(
                    community=community, user=member, role=Membership.Role.MEMBER, state=Membership.State.ACTIVE
                )
            seed_history(
                community=community,
                facilitator=facilitator,
                members=members,
                call_format=format_default(),
                weeks=INSIGHTS_WEEKS,
                title="Weekly circle",
                seed=104,
            )
        say(f"seeded {INSIGHTS_WEEKS} past calls for the insights page in {time.perf_counter() - started:.1f} s")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(facilitator)
    return [(client, INSIGHTS_SLUG)]


def _viewers():
    """Logged-in clients for a fixed sample of members, each with one of their communities."""
    from django.test import Client

    from accounts.models import User
    from groups.models import Membership

    members = User.objects.filter(email__startswith="member-", email__endswith=f"@{EMAIL_DOMAIN}")
    users = list(members.order_by("email"))[:: MEMBERS // VIEWERS][:VIEWERS]
    viewers = []
    for user in users:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        slug = (
            Membership.objects.filter(user=user, state=Membership.State.ACTIVE)
            .order_by("community__slug")
            .values_list("community__slug", flat=True)
            .first()
        )
        viewers.append((client, slug))
    return viewers


class SqlTimer:
    """Wall time spent in the database driver's execute, summed over a request."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(name: str, viewers, path_for) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, cpu, sql, queries = [], [], [], []
    for number in range(WARM_UP + REQUESTS):
        client, slug = viewers[number % len(viewers)]
        path = path_for(slug)
        timer = SqlTimer()
        connection.queries_log.clear()  # the log keeps 9,000 queries; a full one would count 0 here
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
            cpu_started = time.process_time()
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            cpu_elapsed = time.process_time() - cpu_started
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        if number >= WARM_UP:
            timings.append(elapsed * 1000)
            cpu.append(cpu_elapsed * 1000)
            sql.append(timer.seconds * 1000)
            queries.append(len(captured.captured_queries))
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    result = {
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(cuts[94], 2),
        "queries": max(queries),
    }
    say(
        f"{name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, max {max(timings):.1f} ms; "
        f"median SQL {statistics.median(sql):.1f} ms, median Python CPU {statistics.median(cpu):.1f} ms; "
        f"queries {min(queries)}..{max(queries)} per request ({REQUESTS} requests)"
    )
    return result


def main() -> None:
    configure()

    from django.db import connection

    from groups.models import Call

    prepare_database()
    say(f"load average before measuring: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    viewers = _viewers()
    try:
        pages = {
            "community": measure("community page", viewers, lambda slug: f"/c/{slug}/"),
            "my_calls": measure("my calls", viewers, lambda slug: "/me/calls/"),
        }
        insights_viewer = _insights_viewer()
        viewers += insights_viewer
        pages["insights"] = measure(
            "insights (104 weekly calls)", insights_viewer, lambda slug: f"/c/{slug}/insights/?months=24"
        )
    finally:
        for client, _slug in viewers:
            client.logout()
    result = {"pages": pages, "rows": Call.objects.count(), "database": connection.vendor}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
