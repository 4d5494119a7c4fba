"""Check-out anonymity that survives differencing: a call's answers are published once, 48 hours after
it, only with at least three members' answers; facilitators' answers never count; every period is
whole calendar months; the page and the CSV show the same numbers, with "<3" and one decimal.

The first test plays a facilitator's whole attack and checks that no two views they can obtain
differ by a single member's answer."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from itertools import combinations

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from journey import insights, services
from journey.demo import Attendee
from journey.models import MIN_ANSWERS, CheckOut, CheckOutTally
from sharing.models import Participant

pytestmark = pytest.mark.django_db


class PageNumbers(HTMLParser):
    """The check-out figures a facilitator reads on the insights page: the call-by-call table, the
    summary and "What helped"."""

    def __init__(self, html: str):
        super().__init__()
        self.rows, self.summary, self.helped = [], {}, {}
        self._row = self._cell = self._term = self._helped = None
        self._in_helped = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "ul" and "helped-list" in classes:
            self._in_helped = True
        elif tag == "tr":
            self._row = []
        elif tag in {"td", "th", "dt", "dd", "span", "strong"}:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        text = " ".join("".join(self._cell or []).split())
        if tag == "ul":
            self._in_helped = False
        elif tag in {"td", "th"} and self._row is not None:
            self._row.append(text)
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "dt":
            self._term = text
        elif tag == "dd":
            self.summary[self._term] = text
        elif tag == "span" and self._in_helped:
            self._helped = text
        elif tag == "strong" and self._in_helped:
            self.helped[self._helped] = text
        if tag in {"td", "th", "dt", "dd", "span", "strong"}:
            self._cell = None

    def calls(self) -> dict[str, tuple[str, str]]:
        """Each call's (answers, felt heard) cells, "open" while its check-out is open."""
        found = {}
        for cells in self.rows:
            if len(cells) < 7 or cells[0] == "Date":
                continue
            if cells[5].startswith("Open until"):
                found[cells[1]] = ("open", "")
            else:
                felt = cells[6] if re.fullmatch(r"\d\.\d", cells[6]) else ""
                found[cells[1]] = (cells[5], felt)
        return found


def csv_calls(text: str) -> dict[str, tuple[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == insights.CSV_HEADER
    return {row[1]: (row[5], row[6]) for row in rows[1:]}


def published(calls: dict[str, tuple[str, str]]) -> dict[str, int]:
    return {title: int(n) for title, (n, _felt) in calls.items() if n.isdigit()}


def every_view(client, community, moment: str) -> dict:
    """Every view a facilitator can get at this moment: the page and the CSV of every period."""
    views = {}
    for months in insights.PERIODS:
        page = client.get(reverse("insights", args=[community.slug]), {"months": months})
        sheet = client.get(reverse("insights_csv", args=[community.slug]), {"months": months})
        assert page.status_code == sheet.status_code == 200
        numbers = PageNumbers(page.content.decode())
        views[(moment, months, "page")] = {
            "calls": numbers.calls(),
            "answers": numbers.summary["Check-out answers counted"],
            "felt_heard": numbers.summary["Felt heard, on average"],
            "helped": numbers.helped,
        }
        views[(moment, months, "csv")] = {"calls": csv_calls(sheet.content.decode())}
    return views


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def members(circle):
    return [circle.member] + [
        circle.add_member(f"{name}@example.com", display_name=name.title()) for name in ("jonas", "aiko", "ben", "cleo")
    ]


def answers(people, scores, helped=()):
    return [Attendee(person, felt_heard=score, helped=helped) for person, score in zip(people, scores, strict=False)]


def test_a_facilitators_whole_attack_learns_nothing_about_one_member(client, circle, members):
    maya, jonas, aiko, ben, cleo = members
    fran, cody = circle.facilitator, circle.co_facilitator
    community = circle.community
    june_1 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    with at(june_1):
        # Published history: 3, 4 and 3 members' answers, in months that the periods split apart.
        circle.past_call(weeks_ago=60, title="Long ago", attendees=answers([maya, jonas, aiko], [3, 3, 4]))
        circle.past_call(weeks_ago=30, title="Autumn", attendees=answers([maya, jonas, aiko, ben], [2, 3, 4, 5]))
        circle.past_call(weeks_ago=6, title="Spring", attendees=answers([maya, jonas, aiko], [4, 5, 3]))
        # Two members answer; the facilitator and the co-facilitator add their own before the close.
        small_starts = datetime(2026, 5, 11, 18, 0, tzinfo=UTC)
        small = circle.past_call(
            weeks_ago=0,
            now=small_starts,
            title="Small",
            attendees=[Attendee(maya, felt_heard=1, helped=("other",)), Attendee(jonas, felt_heard=2)],
        )
        Participant.objects.create(
            room_id=small.pk,
            user=cody,
            role=Participant.Role.CO_FACILITATOR,
            state=Participant.State.ADMITTED,
            admitted_at=small_starts,
        )
        for person, score in ((fran, 5), (cody, 4)):
            services.checkout_submit(call=small, user=person, felt_heard=score, now=small_starts + timedelta(hours=3))
        # The last call of May, still open on the first of June: three members answered so far.
        last = circle.past_call(
            weeks_ago=0,
            now=datetime(2026, 5, 31, 18, 0, tzinfo=UTC),
            title="Last",
            attendees=[*answers([maya, jonas, aiko], [5, 4, 4]), Attendee(ben), Attendee(cleo)],
        )
        services.checkout_submit(call=last, user=fran, felt_heard=1, now=june_1)

        client.force_login(fran)
        views = every_view(client, community, "open")
    # A member answers while the check-out is open: the facilitator sees no change at all.
    with at(june_1 + timedelta(hours=2)):
        services.checkout_submit(call=last, user=ben, felt_heard=1)
        after_ben = every_view(client, community, "open, after Ben")
    assert list(after_ben.values()) == list(views.values())
    views |= after_ben

    closed = last.ends_at + timedelta(hours=48, minutes=1)
    with at(closed):
        views |= every_view(client, community, "closed")
        # Answers after the close are refused, and nothing the facilitator sees changes.
        client.force_login(cleo)
        refused = client.post(reverse("checkout", args=[last.pk]), {"felt_heard": "5"})
        assert refused.status_code == 400 and "closed" in refused.content.decode()
        with pytest.raises(ValidationError):
            services.checkout_submit(call=small, user=jonas, felt_heard=5)  # a change of mind
        with pytest.raises(ValidationError):
            services.checkout_submit(call=last, user=maya, felt_heard=1)
        client.force_login(fran)
        late = every_view(client, community, "closed, after late answers")
        assert list(late.values()) == [views[("closed", *key[1:])] for key in late]
        views |= late
    with at(datetime(2026, 7, 2, 12, 0, tzinfo=UTC)):  # a month on: every period has moved
        client.force_login(fran)
        views |= every_view(client, community, "a month later")

    # What the facilitator's own answers could have told them: nothing.
    for key, view in views.items():
        assert view["calls"]["Small"] == ("<3", ""), key
        if key[0].startswith("open"):
            assert view["calls"]["Last"] == ("open", ""), key
        else:
            assert view["calls"]["Last"] == ("4", "3.5"), "the four members' 14 / 4; Fran's 1 is not in it"
        if key[2] == "page":
            assert view["helped"]["Other"] == "<3", "Maya's choice in the small call is never counted"

    # The page and the CSV of the same moment and period say the same.
    for (moment, months, kind), view in views.items():
        if kind == "page":
            sheet = views[(moment, months, "csv")]
            assert view["calls"] == sheet["calls"], (moment, months)
            total = sum(published(view["calls"]).values())
            assert view["answers"] == (str(total) if total >= MIN_ANSWERS else f"<{MIN_ANSWERS}")

    # Every figure is "<3", "open" or at least 3; averages have one decimal.
    for key, view in views.items():
        for title, (count, felt) in view["calls"].items():
            assert count in {"open", f"<{MIN_ANSWERS}"} or int(count) >= MIN_ANSWERS, (key, title)
            assert felt == "" or re.fullmatch(r"[1-5]\.\d", felt), (key, title)
        for label, count in view.get("helped", {}).items():
            assert count == f"<{MIN_ANSWERS}" or int(count) >= MIN_ANSWERS, (key, label)

    # A call's figures, once closed, are the same in every view that shows it.
    final = {}
    for key, view in views.items():
        for title, cells in view["calls"].items():
            if cells[0] != "open":
                assert final.setdefault(title, cells) == cells, (key, title)

    # Every figure of a view is made of whole published calls: the summary and "What helped" are
    # exactly the sums of the tallies of the calls the view shows as published.
    tallies = {tally.call.title: tally for tally in CheckOutTally.objects.select_related("call")}
    for key, view in views.items():
        if key[2] != "page":
            continue
        shown = [tallies[title] for title in published(view["calls"])]
        total = sum(tally.answers for tally in shown)
        felt = insights.one_decimal(sum(t.felt_heard_total for t in shown), total) if total else None
        assert view["felt_heard"] == (f"{felt:.1f} of 5" if felt else "Not enough answers yet"), key
        for value, label in CheckOut.Helped.choices:
            assert view["helped"].get(label, "") == (
                insights.shown_count(sum(t.helped.get(value, 0) for t in shown)) if total else ""
            ), (key, label)

    # So no two views differ by one member's answer: what one counts and the other does not is whole
    # published calls, each with at least three members' answers.
    for (key_a, a), (key_b, b) in combinations(views.items(), 2):
        counted_a, counted_b = published(a["calls"]), published(b["calls"])
        for title in counted_a.keys() & counted_b.keys():
            assert counted_a[title] == counted_b[title], (key_a, key_b, title)
        differ = [counted_a.get(t) or counted_b.get(t) for t in counted_a.keys() ^ counted_b.keys()]
        assert all(n >= MIN_ANSWERS for n in differ), (key_a, key_b)
    # The periods did split the history apart, so the comparison above was not empty.
    totals = {key: sum(published(view["calls"]).values()) for key, view in views.items()}
    assert [totals[("closed", months, "csv")] for months in insights.PERIODS] == [7, 11, 14]


def test_facilitators_answers_never_count(circle, members):
    maya, jonas, aiko, *_rest = members
    starts = datetime(2026, 5, 12, 18, 0, tzinfo=UTC)
    with at(starts):
        two = circle.past_call(weeks_ago=0, title="Two", attendees=answers([maya, jonas], [1, 2]))
        three = circle.past_call(weeks_ago=0, title="Three", attendees=answers([maya, jonas, aiko], [2, 2, 3]))
        # A facilitator of the community came to "Two" as an ordinary participant: still not counted.
        Participant.objects.create(
            room_id=two.pk,
            user=circle.co_facilitator,
            role=Participant.Role.MEMBER,
            state=Participant.State.ADMITTED,
            admitted_at=starts,
        )
    later = starts + timedelta(hours=1)
    for call in (two, three):
        services.checkout_submit(call=call, user=circle.facilitator, felt_heard=5, helped=["other"], now=later)
    services.checkout_submit(call=two, user=circle.co_facilitator, felt_heard=5, now=later)
    assert not CheckOut.objects.filter(user__in=[circle.facilitator, circle.co_facilitator], as_member=True).exists()

    tallies = services.checkouts_tally(call_ids=[two.pk, three.pk], now=starts + timedelta(days=3))
    assert (tallies[two.pk].published, tallies[two.pk].answers) == (False, 0)
    assert (tallies[three.pk].published, tallies[three.pk].answers, tallies[three.pk].felt_heard_total) == (True, 3, 7)
    assert "other" not in tallies[three.pk].helped
    with at(datetime(2026, 6, 10, tzinfo=UTC)):
        data = insights.community_insights(community=circle.community, months=3)
    calls = {call.title: call for call in data.calls}
    assert calls["Two"].answers_shown == "<3" and calls["Two"].felt_heard is None
    assert calls["Three"].felt_heard == 2.3 and data.felt_heard == 2.3 and data.answers == 3


def test_below_three_members_a_call_is_left_out_of_every_figure(client, circle, members):
    maya, jonas, aiko, *_rest = members
    with at(datetime(2026, 6, 2, 12, 0, tzinfo=UTC)):
        circle.past_call(weeks_ago=2, title="Kept", attendees=answers([maya, jonas, aiko], [4, 4, 5], ("listened",)))
        circle.past_call(weeks_ago=3, title="Left out", attendees=answers([maya, jonas], [1, 1], ("structure",)))
        client.force_login(circle.facilitator)
        for months in insights.PERIODS:
            data = insights.community_insights(community=circle.community, months=months)
            assert (data.answers, data.felt_heard) == (3, 4.3)
            assert {value: count for value, _label, count in data.helped}["structure"] == "<3"
            chart = dict(
                client.get(reverse("insights", args=[circle.community.slug]), {"months": months}).context["charts"]
            )
            assert len(chart["felt-heard"].points) == 1, "the call left out has no point on the chart"
            sheet = csv_calls(
                client.get(reverse("insights_csv", args=[circle.community.slug]), {"months": months}).content.decode()
            )
            assert sheet == {"Left out": ("<3", ""), "Kept": ("3", "4.3")}
    # The tally of the call left out keeps no numbers at all.
    tally = CheckOutTally.objects.get(call__title="Left out")
    assert (tally.published, tally.answers, tally.felt_heard_total, tally.helped) == (False, 0, 0, {})


def test_a_tally_is_written_once_and_never_changes(circle, members):
    maya, jonas, aiko, *_rest = members
    with at(datetime(2026, 6, 2, 12, 0, tzinfo=UTC)):
        call = circle.past_call(weeks_ago=1, title="Once", attendees=answers([maya, jonas, aiko], [3, 4, 4]))
        before = insights.community_insights(community=circle.community, months=3)
        # Even rows changed behind the service's back do not move a published number.
        CheckOut.objects.filter(call=call).update(felt_heard=1)
        assert services.checkouts_tally(call_ids=[call.pk]) == {}
        after = insights.community_insights(community=circle.community, months=3)
    assert before.calls[0].felt_heard == after.calls[0].felt_heard == 3.7
    assert CheckOutTally.objects.get(call=call).felt_heard_total == 11


def test_an_answer_counts_only_if_given_before_the_close(circle, members):
    """Answers saved after the close (before the close was enforced) are not in the tally."""
    maya, jonas, aiko, ben, _cleo = members
    starts = datetime(2026, 5, 12, 18, 0, tzinfo=UTC)
    with at(starts):
        call = circle.past_call(weeks_ago=0, attendees=answers([maya, jonas, aiko], [5, 5, 5]))
    CheckOut.objects.create(
        call=call, user=ben, felt_heard=1, as_member=True, answered_at=call.ends_at + timedelta(hours=49)
    )
    tally = services.checkouts_tally(call_ids=[call.pk], now=call.ends_at + timedelta(days=3))[call.pk]
    assert (tally.answers, tally.felt_heard_total) == (3, 15)


def test_tallying_takes_the_same_queries_for_one_call_or_many(circle, members):
    maya, jonas, aiko, *_rest = members
    starts = datetime(2026, 5, 1, 18, 0, tzinfo=UTC)
    calls = []
    with at(starts):
        for day in range(12):
            calls.append(
                circle.past_call(weeks_ago=-day / 7, now=starts, attendees=answers([maya, jonas, aiko], [4, 4, 4])).pk
            )
    later = starts + timedelta(days=40)
    with CaptureQueriesContext(connection) as one:
        services.checkouts_tally(call_ids=calls[:1], now=later)
    with CaptureQueriesContext(connection) as many:
        services.checkouts_tally(call_ids=calls[1:], now=later)
    assert len(many.captured_queries) == len(one.captured_queries)
    assert CheckOutTally.objects.filter(published=True).count() == 12
