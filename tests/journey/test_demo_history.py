"""The demo's history tells the truth: each check-out is dated at its own call, and past calls
have the seats of the series they stand for."""

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from groups import demo as groups_demo
from groups.models import Call, Series
from journey.models import CheckOut

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_demo_check_outs_are_dated_at_their_calls_and_past_calls_match_their_series():
    call_command("seed_demo")
    now = timezone.now()
    series = Series.objects.get(title=groups_demo.WEEKLY_TITLE)
    past = Call.objects.filter(community=series.community, title=series.title, ends_at__lt=now)
    assert past.count() >= 10
    assert set(past.values_list("capacity", flat=True)) == {series.capacity}
    checkouts = CheckOut.objects.select_related("call").filter(call__in=past)
    assert checkouts.count() >= 30
    for checkout in checkouts:
        assert checkout.call.ends_at <= checkout.answered_at < checkout.call.checkout_closes_at
    assert len({checkout.answered_at.date() for checkout in checkouts}) >= 10  # not all today
    assert not [c for c in checkouts if c.answered_at.date() == now.date()]
