"""The facilitator's forms report every problem on one submit: each field's error next to it, tied
to it for screen readers, and a summary at the top that links to each field. Bad input saves nothing.
The series form ignores the fields of the frequency and the end that were not chosen, and the
format editor shows segments as cards with presets."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from groups.forms import SegmentFormSet
from groups.models import Call, CallFormat, Series
from groups.services.scheduling import CallDetails, call_create

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def facilitator_client(client, circle):
    client.force_login(circle.facilitator)
    return client


def call_data(circle, **changes):
    data = {
        "title": "Night owls",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "duration_minutes": "60",
        "capacity": "8",
        "time_zone": "Europe/Berlin",
        "day": "2027-01-10",
        "at": "19:00",
    }
    data.update(changes)
    return data


def series_data(circle, **changes):
    data = {
        "title": "Evening circle",
        "time_zone": "Europe/Berlin",
        "start_date": "2027-01-05",
        "start_time": "18:00",
        "duration_minutes": "75",
        "frequency": "weekly",
        "interval": "1",
        "weekdays": ["1"],
        "ends": "never",
        "format": str(circle.call_format.pk),
        "facilitator": str(circle.facilitator.pk),
        "co_facilitator": "",
        "capacity": "8",
    }
    data.update(changes)
    return data


def segment_data(*segments, name="Two parts", grace="15"):
    data = {
        "name": name,
        "description": "",
        "grace_seconds": grace,
        "segments-TOTAL_FORMS": str(len(segments)),
        "segments-INITIAL_FORMS": "0",
        "segments-MIN_NUM_FORMS": "0",
        "segments-MAX_NUM_FORMS": "12",
    }
    for index, segment in enumerate(segments):
        data[f"segments-{index}-reflection_mode"] = "either"
        for key, value in segment.items():
            data[f"segments-{index}-{key}"] = value
    return data


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary"
    return re.findall(r'<li><a href="([^"]+)">(.*?)</a></li>', summary.group(0), re.S)


def tag_of(html: str, element_id: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no field {element_id}"
    return found.group(0)


def assert_invalid_and_described(html: str, element_id: str) -> None:
    tag = tag_of(html, element_id)
    assert 'aria-invalid="true"' in tag
    described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
    assert f"{element_id}_error" in described
    assert f'id="{element_id}_error"' in html


# One call


def test_a_call_with_three_problems_shows_all_three_at_once_and_saves_nothing(facilitator_client, circle):
    data = call_data(
        circle, capacity="13", day="2026-12-01", co_facilitator=str(circle.facilitator.pk), title="Night owls"
    )
    response = facilitator_client.post(f"/c/{circle.community.slug}/calls/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    links = summary_links(html)
    assert [href for href, _text in links] == ["#id_day", "#id_co_facilitator", "#id_capacity"]
    texts = " ".join(text for _href, text in links)
    assert "Ensure this value is less than or equal to 12." in texts
    assert "Choose a start time in the future." in texts
    assert "Choose someone other than the facilitator, or nobody." in texts
    assert 'role="alert"' in html and "Please check 3 things" in html
    for field in ("id_capacity", "id_day", "id_co_facilitator"):
        assert_invalid_and_described(html, field)
    assert 'aria-invalid="true"' not in tag_of(html, "id_title")
    assert not Call.objects.exists()


def test_a_time_that_does_not_exist_and_a_bad_length_show_together(facilitator_client, circle):
    data = call_data(circle, day="2027-03-28", at="02:30", duration_minutes="5")
    html = facilitator_client.post(f"/c/{circle.community.slug}/calls/new/", data).content.decode()
    texts = " ".join(text for _href, text in summary_links(html))
    assert "02:30 does not exist on 28 March in Berlin" in texts
    assert "Length in minutes:" in texts
    assert not Call.objects.exists()


def test_editing_a_call_reports_every_problem_and_changes_nothing(facilitator_client, circle):
    call = circle.call(starts_in=NOW.replace(day=5) - NOW)
    data = call_data(
        circle, title="", day="2026-12-31", capacity="1", version=str(call.version), time_zone=call.time_zone
    )
    response = facilitator_client.post(f"/calls/{call.pk}/edit/", data)
    assert response.status_code == 200
    hrefs = [href for href, _text in summary_links(response.content.decode())]
    assert hrefs == ["#id_title", "#id_day", "#id_capacity"]
    before = (call.title, call.starts_at, call.capacity, call.version)
    call.refresh_from_db()
    assert (call.title, call.starts_at, call.capacity, call.version) == before


def test_the_service_refuses_with_every_problem_in_one_error(circle):
    details = CallDetails(
        title=" ",
        format=circle.call_format,
        facilitator=circle.facilitator,
        co_facilitator=circle.facilitator,
        duration_minutes=60,
        capacity=40,
    )
    with pytest.raises(ValidationError) as refused:
        call_create(
            community=circle.community,
            actor=circle.facilitator,
            details=details,
            day=NOW.date(),
            at=NOW.time(),
            time_zone="UTC",
            now=NOW,
        )
    assert set(refused.value.message_dict) == {"title", "co_facilitator", "capacity", "day"}
    assert not Call.objects.exists()


# Series


def test_a_series_with_several_problems_shows_them_all_at_once(facilitator_client, circle):
    data = series_data(circle, capacity="40", start_date="2026-12-01", weekdays=[], interval="20")
    response = facilitator_client.post(f"/c/{circle.community.slug}/series/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    hrefs = [href for href, _text in summary_links(html)]
    assert hrefs == ["#id_interval", "#id_weekdays_0", "#id_capacity"]
    assert_invalid_and_described(html, "id_capacity")
    assert not Series.objects.exists() and not Call.objects.exists()


def test_a_series_in_the_past_with_a_bad_seat_count_names_both(facilitator_client, circle):
    data = series_data(circle, capacity="1", start_date="2026-12-01")
    html = facilitator_client.post(f"/c/{circle.community.slug}/series/new/", data).content.decode()
    texts = " ".join(text for _href, text in summary_links(html))
    assert "Choose a first date and time in the future." in texts
    assert "Ensure this value is greater than or equal to 2." in texts
    assert not Series.objects.exists()


def test_a_monthly_series_ignores_the_weekly_fields(facilitator_client, circle):
    data = series_data(circle, frequency="monthly", weekdays=["9"], month_week="2", month_weekday="3")
    response = facilitator_client.post(f"/c/{circle.community.slug}/series/new/", data)
    assert response.status_code == 302
    series = Series.objects.get()
    assert (series.frequency, series.weekdays, series.month_week, series.month_weekday) == ("monthly", [], 2, 3)


def test_a_weekly_series_ignores_the_monthly_fields_and_the_unchosen_end(facilitator_client, circle):
    data = series_data(circle, month_week="nonsense", month_weekday="9", until="not a date", count="-4")
    response = facilitator_client.post(f"/c/{circle.community.slug}/series/new/", data)
    assert response.status_code == 302
    series = Series.objects.get()
    assert (series.weekdays, series.month_week, series.month_weekday, series.until, series.count) == (
        [1],
        None,
        None,
        None,
        None,
    )


def test_the_series_form_groups_fields_by_the_choice_they_count_for(facilitator_client, circle):
    html = facilitator_client.get(f"/c/{circle.community.slug}/series/new/").content.decode()
    assert re.search(r'data-shown-when="frequency:weekly">\s*<legend>For weekly series</legend>', html)
    assert re.search(r'data-shown-when="frequency:monthly">\s*<legend>For monthly series</legend>', html)
    assert 'data-shown-when="ends:on_date"' in html and 'data-shown-when="ends:after_count"' in html
    assert "js/forms.js" in html


def test_editing_a_series_reports_every_problem_and_changes_nothing(facilitator_client, circle):
    facilitator_client.post(f"/c/{circle.community.slug}/series/new/", series_data(circle))
    series = Series.objects.get()
    data = series_data(circle, title="", ends="after_count", count="0", capacity="99", version=str(series.version))
    response = facilitator_client.post(f"/series/{series.pk}/edit/", data)
    assert response.status_code == 200
    hrefs = [href for href, _text in summary_links(response.content.decode())]
    assert hrefs == ["#id_title", "#id_count", "#id_capacity"]
    fresh = Series.objects.get()
    assert (fresh.title, fresh.ends, fresh.capacity, fresh.version) == (
        series.title,
        series.ends,
        series.capacity,
        series.version,
    )


# The format editor


def test_the_format_editor_shows_cards_presets_and_one_spare_segment(facilitator_client, circle):
    html = facilitator_client.get(f"/c/{circle.community.slug}/formats/new/").content.decode()
    assert html.count("data-segment data-choice-scope") == 5 + 1  # four segments, one spare, the template
    assert 'value="5" name="segments-TOTAL_FORMS"' in html or 'name="segments-TOTAL_FORMS" value="5"' in html
    for preset in ("Grounding", "Check-in round", "Sharing round", "Open sharing", "Closing"):
        assert f"</span>{preset}</button>" in html
    assert "Position in the list" in html and "Leave this segment out" in html
    assert ">Order<" not in html and ">Delete<" not in html
    for button in re.findall(r"<button[^>]*data-segment-action[^>]*>", html):
        assert 'type="button"' in button
    assert 'Move up<span class="visually-hidden" data-segment-label> “Check-in”</span>' in html
    assert 'role="status"' in html


def test_every_segment_problem_and_form_problem_show_at_once_and_nothing_is_saved(facilitator_client, circle):
    data = segment_data(
        {"kind": "grounding", "title": "Arrive", "seconds": "3", "ORDER": "1"},
        {"kind": "round", "title": "Sharing", "turn_seconds": "5", "reflection_seconds": "2000", "ORDER": "2"},
        {"kind": "closing", "title": "Goodbye", "turn_seconds": "lots", "ORDER": "3"},
        name="",
        grace="500",
    )
    response = facilitator_client.post(f"/c/{circle.community.slug}/formats/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    links = summary_links(html)
    hrefs = [href for href, _text in links]
    assert hrefs == [
        "#id_name",
        "#id_grace_seconds",
        "#id_segments-0-seconds",
        "#id_segments-1-turn_seconds",
        "#id_segments-1-reflection_seconds",
        "#id_segments-2-turn_seconds",
    ]
    texts = [text for _href, text in links]
    assert texts[2] == "Segment 1: a grounding must be between 10 and 900 seconds (it is 3)."
    assert texts[3] == "Segment 2: a turn must be between 15 and 900 seconds (it is 5)."
    assert texts[5] == "Segment 3, Turn length (seconds): Enter a whole number."
    for field in ("id_segments-0-seconds", "id_segments-1-turn_seconds", "id_segments-2-turn_seconds"):
        assert_invalid_and_described(html, field)
    assert not CallFormat.objects.filter(community=circle.community).exists()


def test_fields_a_segment_kind_does_not_read_are_ignored(facilitator_client, circle):
    data = segment_data({"kind": "closing", "title": "Bye", "turn_seconds": "30", "seconds": "x", "ORDER": "1"})
    response = facilitator_client.post(f"/c/{circle.community.slug}/formats/new/", data)
    assert response.status_code == 302
    assert CallFormat.objects.get(community=circle.community).segments == [
        {"kind": "closing", "title": "Bye", "turn_seconds": 30}
    ]


def test_moved_removed_and_added_segments_save_in_the_order_shown(facilitator_client, circle):
    # What the editor's buttons send: positions rewritten, a removed card left out, a preset added.
    data = segment_data(
        {"kind": "grounding", "title": "Arrive", "seconds": "60", "ORDER": "2"},
        {"kind": "round", "title": "Check-in", "turn_seconds": "60", "ORDER": "", "DELETE": "on"},
        {"kind": "closing", "title": "Goodbye", "turn_seconds": "30", "ORDER": "3"},
        {"kind": "round", "title": "Sharing round", "turn_seconds": "120", "reflection_seconds": "60", "ORDER": "1"},
    )
    response = facilitator_client.post(f"/c/{circle.community.slug}/formats/new/", data)
    assert response.status_code == 302
    saved = CallFormat.objects.get(community=circle.community)
    assert [segment["title"] for segment in saved.segments] == ["Sharing round", "Arrive", "Goodbye"]


def test_a_format_with_every_segment_left_out_is_refused(facilitator_client, circle):
    data = segment_data({"kind": "closing", "turn_seconds": "30", "DELETE": "on"}, {"kind": ""})
    response = facilitator_client.post(f"/c/{circle.community.slug}/formats/new/", data)
    assert response.status_code == 200
    assert "A format needs at least one segment." in response.content.decode()
    assert not CallFormat.objects.filter(community=circle.community).exists()


def test_a_form_sent_back_keeps_the_chosen_order_and_numbers_problems_by_it():
    formset = SegmentFormSet(
        segment_data(
            {"kind": "closing", "title": "Goodbye", "turn_seconds": "3", "ORDER": "2"},
            {"kind": "grounding", "title": "Arrive", "seconds": "60", "ORDER": "1"},
        ),
        prefix="segments",
    )
    assert not formset.is_valid()
    assert [form.display_name() for form in formset.display_forms()] == ["Arrive", "Goodbye"]
    assert formset.forms[0].errors["turn_seconds"] == [
        "Segment 2: a turn must be between 15 and 900 seconds (it is 3)."
    ]


def test_position_zero_puts_a_segment_first():
    formset = SegmentFormSet(
        segment_data(
            {"kind": "grounding", "title": "Arrive", "seconds": "60", "ORDER": "1"},
            {"kind": "closing", "title": "Goodbye", "turn_seconds": "30", "ORDER": "0"},
        ),
        prefix="segments",
    )
    assert formset.is_valid()
    assert [segment["title"] for segment in formset.segments()] == ["Goodbye", "Arrive"]
