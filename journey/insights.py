"""What a facilitator may see of their community over time: numbers about calls, never about a
person's answers.

Check-out answers appear only as aggregates of at least MIN_ANSWERS people, here, on the page and in
the CSV alike. The one list of people is the gentle "perhaps reach out" list, which says nothing
anyone answered. There are no talk-time figures and no ranking of people.

Every figure comes from a fixed number of grouped queries, however many calls the period holds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.utils import timezone

from groups.formats import KINDS
from groups.models import RSVP, Call, Community, Membership
from journey.models import CheckOut
from sharing.models import Participant, Room, RoomEvent

MIN_ANSWERS = 3  # fewer answers than this and no aggregate is shown anywhere
REACH_OUT_CALLS = 3  # "RSVP'd but have not attended or shared for the last 3 calls"
OVERRUN_TOLERANCE_MS = 60_000  # a segment a minute or less over its plan did not run over
PERIODS = (3, 12, 24)  # months a facilitator may look back
DEFAULT_PERIOD = 12


@dataclass
class CallInsight:
    call_id: int
    title: str
    starts_at: datetime
    going: int = 0  # RSVP'd "going"
    attended: int = 0  # members admitted to the room
    showed: int = 0  # of those who RSVP'd, how many came
    answers: int = 0  # check-outs received
    felt_heard: float | None = None  # the average, only with at least MIN_ANSWERS answers
    segments_over: int = 0

    @property
    def show_up_rate(self) -> float | None:
        return self.showed / self.going if self.going else None


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
    since: datetime
    calls: list[CallInsight] = field(default_factory=list)
    helped: list[tuple[str, str, int]] = field(default_factory=list)  # (value, label, count), if enough answers
    helped_answers: int = 0
    segments: list[SegmentOverrun] = field(default_factory=list)
    reach_out: list = field(default_factory=list)  # users

    @property
    def total_attended(self) -> int:
        return sum(call.attended for call in self.calls)

    @property
    def show_up_rate(self) -> float | None:
        going = sum(call.going for call in self.calls)
        return sum(call.showed for call in self.calls) / going if going else None

    @property
    def felt_heard(self) -> float | None:
        """The average over the answers of calls that show one (each had at least MIN_ANSWERS)."""
        rated = [call for call in self.calls if call.felt_heard is not None]
        if not rated:
            return None
        return round(sum(call.felt_heard * call.answers for call in rated) / sum(call.answers for call in rated), 2)


def _past_calls(community: Community, since: datetime, now: datetime):
    """Calls that have begun: their start time has passed, or their room was opened early."""
    return Call.objects.filter(
        Q(starts_at__lte=now) | Q(room__started_at__isnull=False),
        community=community,
        status=Call.Status.SCHEDULED,
        starts_at__gte=since,
    ).order_by("starts_at")


def community_insights(*, community: Community, months: int = DEFAULT_PERIOD, now=None) -> Insights:
    now = now or timezone.now()
    since = now - timedelta(days=round(months * 30.44))
    calls = list(_past_calls(community, since, now).values("pk", "title", "starts_at"))
    rows = {c["pk"]: CallInsight(call_id=c["pk"], title=c["title"], starts_at=c["starts_at"]) for c in calls}
    insights = Insights(community=community, since=since, calls=list(rows.values()))
    if not rows:
        return insights
    # The aggregates read the whole period; rows for calls not in `rows` (not yet begun) are skipped.
    in_period = {"call__community": community, "call__starts_at__gte": since}
    in_rooms = {f"room__{key}": value for key, value in in_period.items()}

    going = RSVP.objects.filter(status=RSVP.Status.GOING, **in_period).values("call_id").annotate(n=Count("pk"))
    for row in going:
        if row["call_id"] in rows:
            rows[row["call_id"]].going = row["n"]

    rsvped = RSVP.objects.filter(call_id=OuterRef("room_id"), user_id=OuterRef("user_id"), status=RSVP.Status.GOING)
    attendance = (
        Participant.objects.filter(
            admitted_at__isnull=False,
            role=Participant.Role.MEMBER,  # facilitators hold the call; they are not counted as coming
            **in_rooms,
        )
        .alias(rsvped=Exists(rsvped))
        .values("room_id")
        .annotate(attended=Count("pk"), showed=Count("pk", filter=Q(rsvped=True)))
    )
    for row in attendance:
        if row["room_id"] in rows:
            rows[row["room_id"]].attended = row["attended"]
            rows[row["room_id"]].showed = row["showed"]

    answers = CheckOut.objects.filter(**in_period).values("call_id").annotate(n=Count("pk"), avg=Avg("felt_heard"))
    for row in answers:
        if row["call_id"] in rows:
            call = rows[row["call_id"]]
            call.answers = row["n"]
            call.felt_heard = round(row["avg"], 2) if row["n"] >= MIN_ANSWERS else None

    helped = Counter()
    helped_answers = 0
    for call_id, choices in CheckOut.objects.filter(**in_period).values_list("call_id", "helped"):
        if call_id not in rows:
            continue
        helped_answers += 1
        helped.update(set(choices or ()))
    insights.helped_answers = helped_answers
    if helped_answers >= MIN_ANSWERS:
        insights.helped = [(value, label, helped[value]) for value, label in CheckOut.Helped.choices]

    agendas = dict(Room.objects.filter(pk__in=list(rows)).values_list("pk", "segments"))
    segments: dict[tuple[int, str], SegmentOverrun] = {}
    ended = RoomEvent.objects.filter(kind="segment.ended", **in_rooms).values_list("room_id", "duration_ms", "detail")
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
    shared = set(
        Participant.objects.filter(room_id__in=last_calls, admitted_at__isnull=False, has_shared=True).values_list(
            "user_id", flat=True
        )
    )
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
    """One row per call. Below the threshold the felt-heard cell is empty, as on the page."""
    yield CSV_HEADER
    for call in insights.calls:
        rate = call.show_up_rate
        yield [
            call.starts_at.date().isoformat(),
            call.title,
            call.going,
            call.attended,
            "" if rate is None else f"{rate:.2f}",
            call.answers if call.answers == 0 or call.answers >= MIN_ANSWERS else f"<{MIN_ANSWERS}",
            "" if call.felt_heard is None else f"{call.felt_heard:.2f}",
            call.segments_over,
        ]
