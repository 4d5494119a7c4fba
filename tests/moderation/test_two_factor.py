from groups.models import Membership
from tests.conftest import make_person


def test_owners_and_staff_without_two_factor_are_sent_to_set_it_up(client, circle):
    newcomer = make_person("newowner@example.com")
    Membership.objects.create(
        community=circle.community, user=newcomer, role="owner", state="active", accepted_agreements_version=1
    )
    client.force_login(newcomer)
    response = client.get("/communities/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/accounts/2fa/totp/activate/").status_code in {200, 302}  # the setup itself is allowed


def test_members_are_not_asked_and_owners_with_two_factor_pass(client, circle):
    client.force_login(circle.member)
    assert client.get("/communities/").status_code == 200
    client.force_login(circle.owner)  # has two-factor login
    assert client.get("/communities/").status_code == 200


def test_two_factor_is_offered_to_everyone(client, circle):
    client.force_login(circle.member)
    assert client.get("/accounts/2fa/").status_code == 200
