"""Facilitator insights computed from known history, with exact values, and the anonymity rule:
no check-out figure is shown anywhere for a call with fewer than three members' answers.
tests/journey/test_anonymity.py plays a facilitator's attempts to get round it."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from journey import insights
from journey.demo import Attendee
from journey.insights import MIN_ANSWERS

pytestmark = pytest.mark.django_db

# Early in a month: the history below took place in the previous one, which the periods include.
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(circle):
    maya = circle.member
    jonas = circle.add_member("jonas@example.com", display_name="Jonas")
    aiko = circle.add_member("aiko@example.com", display_name="Aiko")
    ben = circle.add_member("ben@example.com", display_name="Ben")
    return maya, jonas, aiko, ben


@pytest.fixture
def history(circle, people):
    maya, jonas, aiko, ben = people
    # Three weeks ago: four RSVP'd, three came, three answered (4, 5, 3).
    first = circle.past_call(
        weeks_ago=3,
        title="First",
        attendees=[
            Attendee(maya, felt_heard=4, helped=("listened", "shared")),
            Attendee(jonas, felt_heard=5, helped=("listened",)),
            Attendee(aiko, felt_heard=3, helped=("structure",)),
            Attendee(ben, came=False),
        ],
        segments=[(300, 300), (600, 780)],  # the second ran 3 minutes over
    )
    # Two weeks ago: four RSVP'd, two came, two answered: below the threshold.
    second = circle.past_call(
        weeks_ago=2,
        title="Second",
        attendees=[
            Attendee(maya, felt_heard=2),
            Attendee(jonas, felt_heard=1, helped=("other",)),
            Attendee(aiko, came=False),
            Attendee(ben, came=True, shared=False),
        ],
        segments=[(300, 350), (600, 600)],  # 50 s over is within the minute's tolerance
    )
    # One week ago: three RSVP'd, all came, four answered... three: 5, 5, 4.
    third = circle.past_call(
        weeks_ago=1,
        title="Third",
        attendees=[
            Attendee(maya, felt_heard=5, helped=("reflections",)),
            Attendee(jonas, felt_heard=5, helped=("listened", "reflections")),
            Attendee(ben, came=True, shared=False, felt_heard=4),
        ],
        segments=[(300, 420), (600, 600)],
    )
    return first, second, third


def by_title(data):
    return {call.title: call for call in data.calls}


def test_attendance_show_up_and_felt_heard_per_call(circle, history):
    data = insights.community_insights(community=circle.community)
    calls = by_title(data)
    assert [call.title for call in data.calls] == ["First", "Second", "Third"]
    # The facilitator is in every room too, but holds the call: only members count as coming.
    assert (calls["First"].going, calls["First"].attended, calls["First"].showed) == (4, 3, 3)
    assert calls["First"].show_up_rate == 0.75
    assert (calls["Second"].going, calls["Second"].attended, calls["Second"].showed) == (4, 3, 3)
    assert (calls["Third"].going, calls["Third"].attended, calls["Third"].showed) == (3, 3, 3)
    assert calls["Third"].show_up_rate == 1.0
    assert calls["First"].felt_heard == 4.0
    assert calls["Second"].felt_heard is None, "two answers are never averaged"
    assert calls["Second"].checkout == insights.WITHHELD
    assert calls["Second"].answers == 0 and calls["Second"].answers_shown == "<3"
    assert calls["Third"].felt_heard == 4.7, "14 / 3, to one decimal"
    assert data.show_up_rate == pytest.approx(9 / 11)
    # Over the period: only published calls count, weighted by answers: (12 + 14) / 6, one decimal.
    assert data.felt_heard == 4.3
    assert data.answers == 6
    assert data.total_attended == 9


def test_what_helped_counts_only_published_calls_and_hides_small_counts(circle, history):
    data = insights.community_insights(community=circle.community)
    # First and Third only: the Second call's "other" is never counted, and counts under 3 are "<3".
    assert data.answers == 6
    assert {value: count for value, _label, count in data.helped} == {
        "listened": "3",
        "shared": "<3",
        "reflections": "<3",
        "structure": "<3",
        "other": "<3",
    }


def test_segments_that_ran_over_time(circle, history):
    data = insights.community_insights(community=circle.community)
    summary = [(s.position, s.title, s.runs, s.over, s.average_over_minutes) for s in data.segments]
    assert summary == [(1, "Arriving", 3, 1, 2.0), (2, "Check-in", 3, 1, 3.0)]
    calls = by_title(data)
    assert [calls[t].segments_over for t in ("First", "Second", "Third")] == [1, 0, 1]


def test_members_to_reach_out_to(circle, people, history):
    _maya, _jonas, _aiko, ben = people
    data = insights.community_insights(community=circle.community)
    # Ben RSVP'd to all three: missed one, came to two but did not share. Aiko missed the third's RSVP.
    assert data.reach_out == [ben]


def test_no_reach_out_list_before_three_calls(circle, people):
    _maya, _jonas, _aiko, ben = people
    circle.past_call(weeks_ago=1, attendees=[Attendee(ben, came=False)])
    assert insights.community_insights(community=circle.community).reach_out == []


def test_under_three_answers_nothing_about_them_is_shown_anywhere(client, circle, people):
    maya, jonas, _aiko, _ben = people
    circle.past_call(
        weeks_ago=1,
        title="Small",
        attendees=[Attendee(maya, felt_heard=1, helped=("other",)), Attendee(jonas, felt_heard=2)],
    )
    data = insights.community_insights(community=circle.community)
    assert data.felt_heard is None
    assert data.helped == []
    assert by_title(data)["Small"].felt_heard is None

    client.force_login(circle.facilitator)
    page = client.get(reverse("insights", args=[circle.community.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Not enough answers" in text
    assert "1.5" not in text and "Other</span>" not in text
    assert f"fewer than {MIN_ANSWERS} members answered" in text
    assert "<td>&lt;3</td>" in text

    rows = list(
        csv.reader(io.StringIO(client.get(reverse("insights_csv", args=[circle.community.slug])).content.decode()))
    )
    assert rows[0] == insights.CSV_HEADER
    assert rows[1][1] == "Small"
    assert rows[1][5] == f"<{MIN_ANSWERS}"
    assert rows[1][6] == ""


def test_the_page_and_the_csv_show_the_known_numbers(client, circle, history):
    client.force_login(circle.facilitator)
    page = client.get(reverse("insights", args=[circle.community.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("<svg") == 3
    assert 'role="img"' in text and "<title id=" in text and "<desc id=" in text
    assert "4.3 of 5" in text
    assert "<td>4.7</td>" in text and "4.67" not in text
    assert "<li><span>Being listened to</span> <strong>3</strong></li>" in text
    assert "<li><span>Reflections</span> <strong>&lt;3</strong></li>" in text
    response = client.get(reverse("insights_csv", args=[circle.community.slug]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[1:] for row in rows[1:]] == [
        ["First", "4", "3", "0.75", "3", "4.0", "1"],
        ["Second", "4", "3", "0.75", "<3", "", "0"],
        ["Third", "3", "3", "1.00", "3", "4.7", "1"],
    ]


def test_names_never_appear_beside_answers(client, circle, people, history):
    """The only names on the page are in the reach-out list, which says nothing anyone answered."""
    maya, jonas, aiko, _ben = people
    client.force_login(circle.facilitator)
    text = client.get(reverse("insights", args=[circle.community.slug])).content.decode()
    for person in (maya, jonas, aiko):
        assert person.display_name not in text
    csv_text = client.get(reverse("insights_csv", args=[circle.community.slug])).content.decode()
    for person in people:
        assert person.display_name not in csv_text and person.email not in csv_text


@pytest.mark.parametrize("who", ["member", "outsider", "banned"])
def test_only_facilitators_see_insights(client, circle, history, who):
    client.force_login(getattr(circle, who))
    assert client.get(reverse("insights", args=[circle.community.slug])).status_code == 403
    assert client.get(reverse("insights_csv", args=[circle.community.slug])).status_code == 403


def test_a_spreadsheet_formula_in_a_title_is_defused(client, circle, people):
    maya, *_rest = people
    circle.past_call(weeks_ago=1, title='=HYPERLINK("x")', attendees=[Attendee(maya)])
    client.force_login(circle.facilitator)
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("insights_csv", args=[circle.community.slug])).content.decode()))
    )
    assert rows[1][1].startswith("'=")


def test_periods_are_whole_calendar_months_before_this_one():
    june = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)
    assert insights.period_bounds(3, june) == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    assert insights.period_bounds(12, june) == (datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    january = datetime(2027, 1, 31, 23, 59, tzinfo=UTC)
    assert insights.period_bounds(24, january) == (datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    # The same on the first and the last day of a month: the period does not move day by day.
    assert insights.period_bounds(3, datetime(2026, 6, 1, tzinfo=UTC)) == insights.period_bounds(
        3, datetime(2026, 6, 30, 23, 59, tzinfo=UTC)
    )


def test_period_choice_and_bad_input(client, circle, people):
    maya, *_rest = people
    circle.past_call(weeks_ago=30, title="Long ago", attendees=[Attendee(maya)])
    circle.past_call(weeks_ago=0.1, title="This month", attendees=[Attendee(maya)])
    client.force_login(circle.facilitator)
    url = reverse("insights", args=[circle.community.slug])
    assert "Long ago" not in client.get(url + "?months=3").content.decode()
    assert "Long ago" in client.get(url + "?months=12").content.decode()
    for months in insights.PERIODS:
        assert "This month" not in client.get(url, {"months": months}).content.decode()
    assert client.get(url + "?months=banana").status_code == 200
    assert client.get(url + "?months=9999").status_code == 200


def test_query_count_stays_fixed_as_history_grows(client, circle, people, django_assert_max_num_queries):
    _maya, _jonas, _aiko, _ben = people
    client.force_login(circle.facilitator)
    url = reverse("insights", args=[circle.community.slug])
    for week in range(1, 4):  # three calls: every part of the page has something to show
        circle.past_call(weeks_ago=week, attendees=[Attendee(p, felt_heard=4) for p in people[:3]], segments=[(60, 60)])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for week in range(1, 40):
        circle.past_call(
            weeks_ago=week,
            attendees=[Attendee(p, felt_heard=3, helped=("listened",)) for p in people],
            segments=[(60, 90), (60, 200)],
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


@pytest.mark.parametrize("moment", [datetime(2026, 7, 1, 0, 30, tzinfo=UTC), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)])
def test_the_demo_history_is_published_and_charted_on_any_day_of_the_month(client, circle, people, moment):
    from journey.demo import seed_history

    with time_machine.travel(moment, tick=False):
        seed_history(
            community=circle.community,
            facilitator=circle.facilitator,
            members=list(people),
            call_format=circle.call_format,
            title="Weekly circle",
        )
        client.force_login(circle.facilitator)
        page = client.get(reverse("insights", args=[circle.community.slug]))
    data, charts = page.context["data"], dict(page.context["charts"])
    assert all(call.published for call in data.calls)
    assert len(charts["felt-heard"].points) == len(data.calls) >= 8
