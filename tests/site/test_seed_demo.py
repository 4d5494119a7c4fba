import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.models import User


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
