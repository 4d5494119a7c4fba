import pytest


@pytest.fixture
def profile_data():
    return {
        "display_name": "Maya R.",
        "time_zone": "Asia/Tokyo",
        "theme": "low-light",
        "reminders": "day",
        "notify_updates": "on",
        "extra_time": "1.5",
        "reflections_default": "resonance",
        "prefers_typing": "on",
        "audio_cues": "on",
        "cue_volume": "40",
    }


@pytest.mark.django_db
def test_profile_needs_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_member_edits_display_name_time_zone_and_preferences(client, member, profile_data):
    client.force_login(member)
    response = client.post("/accounts/profile/", profile_data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.display_name, member.time_zone, member.theme, member.reminders) == (
        "Maya R.",
        "Asia/Tokyo",
        "low-light",
        "day",
    )
    assert member.notify_updates is True
    assert (member.extra_time, member.reflections_default, member.prefers_typing) == ("1.5", "resonance", True)
    assert (member.audio_cues, member.cue_volume, member.read_aloud, member.large_controls) == (True, 40, False, False)


@pytest.mark.django_db
def test_accommodation_values_outside_the_choices_are_refused(client, member, profile_data):
    client.force_login(member)
    response = client.post("/accounts/profile/", {**profile_data, "extra_time": "5", "cue_volume": "300"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice. 5 is not one of the available choices." in html
    assert "Ensure this value is less than or equal to 100." in html
    member.refresh_from_db()
    assert member.extra_time == "1"


@pytest.mark.django_db
def test_bad_time_zone_is_explained_and_changes_nothing(client, member, profile_data):
    client.force_login(member)
    response = client.post("/accounts/profile/", {**profile_data, "time_zone": "Europe/Atlantis"})
    assert response.status_code == 200
    assert "Europe/Atlantis is not one of the available choices" in response.content.decode()
    member.refresh_from_db()
    assert member.time_zone == "UTC"
    assert member.display_name == "Maya"


def test_requests_see_the_signed_in_persons_time_zone(rf, member):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.utils import timezone

    from accounts.middleware import TimeZoneMiddleware

    member.time_zone = "Asia/Kolkata"
    middleware = TimeZoneMiddleware(lambda request: HttpResponse(timezone.get_current_timezone_name()))
    request = rf.get("/")
    request.user = member
    assert middleware(request).content == b"Asia/Kolkata"
    request.user = AnonymousUser()
    assert middleware(request).content == b"UTC"
    assert timezone.get_current_timezone_name() == "UTC"


def test_time_zone_validator_names_the_bad_value():
    from django.core.exceptions import ValidationError

    from accounts.timezones import validate_time_zone

    validate_time_zone("Europe/Berlin")
    with pytest.raises(ValidationError, match="Nowhere/Land"):
        validate_time_zone("Nowhere/Land")
