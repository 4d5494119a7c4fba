import re

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from groups import demo as demo_groups


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_seed_demo_creates_verified_demo_people_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = {user.email: user.pk for user in User.objects.all()}
    call_command("seed_demo")
    second = {user.email: user.pk for user in User.objects.all()}

    expected = {"owner@example.com", "facilitator@example.com"} | {f"member{n}@example.com" for n in range(1, 6)}
    assert set(first) == expected
    assert first == second
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 7
    member = User.objects.get(email="member1@example.com")
    assert member.check_password("attune-demo")
    assert "attune-demo" in capsys.readouterr().out


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_seed_demo_refuses_when_debug_is_off_unless_forced():
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not User.objects.exists()
    call_command("seed_demo", "--force")
    assert User.objects.count() == 7


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_demo_names_carry_no_role_so_the_role_shows_once_beside_the_name(client):
    User.objects.create_user(email="facilitator@example.com", password="x", display_name="Fran (facilitator)")
    call_command("seed_demo")  # an older demo's names are renamed
    names = dict(User.objects.values_list("email", "display_name"))
    assert names["facilitator@example.com"] == "Fran" and names["owner@example.com"] == "Olu"
    assert not [name for name in names.values() if re.search(r"facilitator|owner|\(", name, re.IGNORECASE)]

    fran = User.objects.get(email="facilitator@example.com")
    client.force_login(fran)
    page = client.get(reverse("members", args=[demo_groups.SLUG])).content.decode()
    row = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.DOTALL) if "<td>Fran</td>" in row)
    assert len(re.findall("facilitator", row, re.IGNORECASE)) == 1, row
