import pytest


@pytest.mark.django_db
def test_low_light_choice_is_remembered_on_the_account(client, member):
    client.force_login(member)
    response = client.post("/accounts/theme/", {"theme": "low-light", "next": "/accounts/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    member.refresh_from_db()
    assert member.theme == "low-light"
    # Another device: a fresh session for the same person renders the low-light theme.
    other_device = type(client)()
    other_device.force_login(member)
    assert 'data-theme="low-light"' in other_device.get("/").content.decode()


@pytest.mark.django_db
def test_visitors_keep_their_theme_in_a_cookie(client):
    response = client.post("/accounts/theme/", {"theme": "low-light"}, headers={"Accept": "application/json"})
    assert response.status_code == 204
    assert 'data-theme="low-light"' in client.get("/").content.decode()


@pytest.mark.django_db
def test_unknown_theme_and_foreign_redirects_are_refused(client):
    assert client.post("/accounts/theme/", {"theme": "neon"}).status_code == 400
    response = client.post("/accounts/theme/", {"theme": "light", "next": "https://evil.example/"})
    assert response["Location"] == "/"
