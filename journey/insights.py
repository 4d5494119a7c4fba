"""What a facilitator may see of their community over time: numbers about calls, never about a
person's answers.

Check-out answers reach this module only as published tallies (journey.models.CheckOutTally): a
call's members' answers, tallied once when its check-out closed 48 hours after the call, and
published only if at least MIN_ANSWERS members answered. Facilitators' own answers are never in
them. Every check-out figure here, on the page and in the CSV alike, is a sum of whole published
tallies; so two views a facilitator can obtain (two periods, today and next week, the page and the
CSV) differ by whole calls of at least MIN_ANSWERS members, never by one person's answer. Counts
below MIN_ANSWERS show as "<3", and averages have one decimal.

Periods are whole calendar months before the current one, so a period does not grow day by day.
The one list of people is the gentle "perhaps reach out" list, which says nothing anyone answered.
There are no talk-time figures and no ranking of people.

Every figure comes from a fixed number of grouped queries, however many calls the period holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from groups.formats import KINDS
from groups.models import RSVP, Call, Community, Membership
from journey import services
from journey.models import CHECKOUT_OPEN_FOR, MIN_ANSWERS, CheckOut
from sharing import selectors as rooms

REACH_OUT_CALLS = 3  # "RSVP'd but have not attended or shared for the last 3 calls"
OVERRUN_TOLERANCE_MS = 60_000  # a segment a minute or less over its plan did not run over
PERIODS = (3, 12, 24)  # whole calendar months a facilitator may look back
DEFAULT_PERIOD = 12

# A call's check-out, as insights see it.
OPEN = "open"  # answers are still being taken: nothing is shown yet
PUBLISHED = "published"  # closed with at least MIN_ANSWERS members' answers: the tally is shown
WITHHELD = "withheld"  # closed with fewer: nothing but "<3" is ever shown


def shown_count(count: int) -> str:
    """A count of answers as anyone may see it: below MIN_ANSWERS it is only "<3"."""
    return str(count) if count >= MIN_ANSWERS else f"<{MIN_ANSWERS}"


def one_decimal(total: int, count: int) -> float:
    """total / count rounded half up to one decimal, in integers (no binary rounding surprises)."""
    return (total * 20 + count) // (2 * count) / 10


def period_bounds(months: int, now: datetime) -> tuple[datetime, datetime]:
    """The last `months` whole calendar months before the current one, in the current time zone:
    from midnight on the first of the earliest to midnight on the first of this month (excluded)."""
    local = timezone.localtime(now)
    first = local.date().replace(day=1)
    index = first.year * 12 + first.month - 1 - months
    start = date(index // 12, index % 12 + 1, 1)
    return (
        timezone.make_aware(datetime.combine(start, time()), local.tzinfo),
        timezone.make_aware(datetime.combine(first, time()), local.tzinfo),
    )


@dataclass
class CallInsight:
    call_id: int
    title: str
    starts_at: datetime
    closes_at: datetime  # when the check-out closes
    going: int = 0  # RSVP'd "going"
    attended: int = 0  # members admitted to the room
    showed: int = 0  # of those who RSVP'd, how many came
    checkout: str = OPEN
    answers: int = 0  # members' answers in the published tally; 0 unless published
    felt_heard_total: int = 0  # their sum; 0 unless published
    segments_over: int = 0

    @property
    def show_up_rate(self) -> float | None:
        return self.showed / self.going if self.going else None

    @property
    def published(self) -> bool:
        return self.checkout == PUBLISHED

    @property
    def felt_heard(self) -> float | None:
        """The members' average, to one decimal, only once published."""
        return one_decimal(self.felt_heard_total, self.answers) if self.published else None

    @property
    def answers_shown(self) -> str:
        """The number of answers as shown: "" while open, "<3" when withheld."""
        return "" if self.checkout == OPEN else shown_count(self.answers)


@dataclass
class SegmentOverrun:
    position: int  # 1-based, in the call's agenda
    title: str
    runs: int = 0
    over: int = 0
    over_ms_total: int = 0

    @property
    def average_over_minutes(self) -> float | None:
        return round(self.over_ms_total / self.over / 60_000, 1) if self.over else None


@dataclass
class Insights:
    community: Community
    months: int
    since: datetime  # the first instant of the period
    until: datetime  # the first instant after it: the start of the current month
    calls: list[CallInsight] = field(default_factory=list)
    helped: list[tuple[str, str, str]] = field(default_factory=list)  # (value, label, shown count), if any published
    segments: list[SegmentOverrun] = field(default_factory=list)
    reach_out: list = field(default_factory=list)  # users

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.since).date()

    @property
    def last_day(self) -> date:
        return (timezone.localtime(self.until) - timedelta(days=1)).date()

    @property
    def total_attended(self) -> int:
        return sum(call.attended for call in self.calls)

    @property
    def show_up_rate(self) -> float | None:
        going = sum(call.going for call in self.calls)
        return sum(call.showed for call in self.calls) / going if going else None

    @property
    def published_calls(self) -> list[CallInsight]:
        return [call for call in self.calls if call.published]

    @property
    def answers(self) -> int:
        """Members' answers in the period's published calls (each has at least MIN_ANSWERS)."""
        return sum(call.answers for call in self.published_calls)

    @property
    def felt_heard(self) -> float | None:
        """The average over every answer of the period's published calls, to one decimal."""
        answers = self.answers
        if not answers:
            return None
        return one_decimal(sum(call.felt_heard_total for call in self.published_calls), answers)


def _begun_calls(community: Community, since: datetime, now: datetime):
    """Calls that have begun: their start time has passed, or their room was opened early."""
    return Call.objects.filter(
        Q(starts_at__lte=now) | Q(room__started_at__isnull=False),
        community=community,
        status=Call.Status.SCHEDULED,
        starts_at__gte=since,
    ).order_by("starts_at")


TALLY_FIELDS = ("published", "answers", "felt_heard_total", "helped")


def community_insights(*, community: Community, months: int = DEFAULT_PERIOD, now=None) -> Insights:
    now = now or timezone.now()
    since, until = period_bounds(months, now)
    insights = Insights(community=community, months=months, since=since, until=until)
    # Calls since the period began, this month's too (for the reach-out list), with their tallies.
    calls = list(
        _begun_calls(community, since, now).values(
            "pk", "title", "starts_at", "ends_at", *(f"checkout_tally__{name}" for name in TALLY_FIELDS)
        )
    )
    tallies = {
        c["pk"]: {name: c[f"checkout_tally__{name}"] for name in TALLY_FIELDS}
        for c in calls
        if c["checkout_tally__published"] is not None
    }
    # Check-outs that have closed since anyone last looked are tallied now, once and for good.
    due = [c["pk"] for c in calls if c["pk"] not in tallies and c["ends_at"] + CHECKOUT_OPEN_FOR <= now]
    if due:
        for call_id, tally in services.checkouts_tally(call_ids=due, now=now).items():
            tallies[call_id] = {name: getattr(tally, name) for name in TALLY_FIELDS}

    rows = {}
    helped = Counter()
    for c in calls:
        if c["starts_at"] >= until:
            continue
        row = CallInsight(
            call_id=c["pk"], title=c["title"], starts_at=c["starts_at"], closes_at=c["ends_at"] + CHECKOUT_OPEN_FOR
        )
        tally = tallies.get(c["pk"])
        if tally is not None:
            row.checkout = PUBLISHED if tally["published"] else WITHHELD
        if row.published:
            row.answers = tally["answers"]
            row.felt_heard_total = tally["felt_heard_total"]
            helped.update(tally["helped"])
        rows[c["pk"]] = row
    insights.calls = list(rows.values())
    if not rows:
        return insights
    if insights.answers:
        insights.helped = [(value, label, shown_count(helped[value])) for value, label in CheckOut.Helped.choices]

    # The aggregates read the whole period; rows for calls not in `rows` (not yet begun) are skipped.
    in_period = {"call__community": community, "call__starts_at__gte": since, "call__starts_at__lt": until}

    going = RSVP.objects.filter(status=RSVP.Status.GOING, **in_period).values("call_id").annotate(n=Count("pk"))
    for row in going:
        if row["call_id"] in rows:
            rows[row["call_id"]].going = row["n"]

    attendance = rooms.member_attendance(community_id=community.pk, since=since, until=until)
    for room_id, (attended, showed) in attendance.items():
        if room_id in rows:
            rows[room_id].attended = attended
            rows[room_id].showed = showed

    agendas = rooms.agendas(call_ids=rows)
    segments: dict[tuple[int, str], SegmentOverrun] = {}
    ended = rooms.segment_timings(community_id=community.pk, since=since, until=until)
    for room_id, duration_ms, detail in ended:
        index = int(detail.get("segment", 0))
        agenda = agendas.get(room_id) or []
        planned_segment = agenda[index] if 0 <= index < len(agenda) else {}
        title = planned_segment.get("title") or str(KINDS.get(detail.get("segment_kind"), ""))
        key = (index + 1, title)
        overrun = segments.setdefault(key, SegmentOverrun(position=index + 1, title=title))
        overrun.runs += 1
        planned = detail.get("planned_ms") or 0
        if planned and duration_ms is not None and duration_ms > planned + OVERRUN_TOLERANCE_MS:
            overrun.over += 1
            overrun.over_ms_total += duration_ms - planned
            if room_id in rows:
                rows[room_id].segments_over += 1
    insights.segments = [segments[key] for key in sorted(segments)]
    insights.reach_out = _reach_out(community, [c["pk"] for c in calls[-REACH_OUT_CALLS:]])
    return insights


def _reach_out(community: Community, last_calls: list[int]) -> list:
    """Active members who RSVP'd to each of the last calls and neither attended and shared in any."""
    if len(last_calls) < REACH_OUT_CALLS:
        return []
    rsvps = RSVP.objects.filter(call_id__in=last_calls, status=RSVP.Status.GOING).filter(
        Exists(
            Membership.objects.filter(
                community=community,
                user_id=OuterRef("user_id"),
                state=Membership.State.ACTIVE,
                role=Membership.Role.MEMBER,
            )
        )
    )
    calls_by_user = defaultdict(set)
    users = {}
    for rsvp in rsvps.select_related("user"):
        calls_by_user[rsvp.user_id].add(rsvp.call_id)
        users[rsvp.user_id] = rsvp.user
    shared = rooms.shared_user_ids(call_ids=last_calls)
    return sorted(
        (users[uid] for uid, called in calls_by_user.items() if len(called) == len(last_calls) and uid not in shared),
        key=lambda user: user.display_name.lower(),
    )


CSV_HEADER = [
    "date",
    "call",
    "rsvp_going",
    "attended",
    "show_up_rate",
    "checkout_answers",
    "felt_heard_average",
    "segments_over_time",
]


def csv_rows(insights: Insights):
    """One row per call, with the page's numbers: answers as a count or "<3" ("open" while the
    check-out is open), the felt-heard average with one decimal and only when published."""
    yield CSV_HEADER
    for call in insights.calls:
        rate = call.show_up_rate
        yield [
            timezone.localtime(call.starts_at).date().isoformat(),
            call.title,
            call.going,
            call.attended,
            "" if rate is None else f"{rate:.2f}",
            call.answers_shown or OPEN,
            "" if call.felt_heard is None else f"{call.felt_heard:.1f}",
            call.segments_over,
        ]
