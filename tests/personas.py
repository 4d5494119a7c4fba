"""Personas for communities and calls: owner, facilitator, co-facilitator, member, pending,
banned, outsider and staff, in one community with the default format. The `circle` fixture in
tests/conftest.py builds one."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from groups.models import Call, Community, Membership
from groups.services.communities import community_create
from groups.services.formats import format_default
from tests.conftest import enable_two_factor, make_person


@dataclass
class Circle:
    community: Community
    owner: object
    facilitator: object
    co_facilitator: object
    member: object
    pending: object
    banned: object
    outsider: object
    staff: object
    call_format: object

    def add_member(self, email, **fields):
        person = make_person(email, **fields)
        Membership.objects.create(
            community=self.community,
            user=person,
            role=Membership.Role.MEMBER,
            state=Membership.State.ACTIVE,
            accepted_agreements_version=self.community.agreements_version,
        )
        return person

    def call(self, *, starts_in=timedelta(days=2), capacity=8, minutes=75, **fields):
        starts_at = timezone.now() + starts_in
        fields.setdefault("title", "Tuesday circle")
        return Call.objects.create(
            community=self.community,
            format=self.call_format,
            facilitator=self.facilitator,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            time_zone="Europe/Berlin",
            capacity=capacity,
            **fields,
        )

    def past_call(self, **fields):
        """A call that has taken place, with its record: see journey.demo.past_call."""
        from journey.demo import past_call

        return past_call(community=self.community, facilitator=self.facilitator, call_format=self.call_format, **fields)


def _join(community, user, role, state, accepted=True):
    return Membership.objects.create(
        community=community,
        user=user,
        role=role,
        state=state,
        accepted_agreements_version=community.agreements_version if accepted else None,
    )


def build_circle() -> Circle:
    owner = enable_two_factor(make_person("owner@example.com", display_name="Olive", time_zone="Europe/Berlin"))
    community = community_create(owner=owner, name="Hands at rest", slug="hands-at-rest", description="A circle.")
    facilitator = make_person("fac@example.com", display_name="Fran", time_zone="Europe/Berlin")
    co_facilitator = make_person("cofac@example.com", display_name="Cody", time_zone="Europe/London")
    member = make_person("member@example.com", display_name="Maya", time_zone="America/New_York")
    pending = make_person("pending@example.com", display_name="Pat")
    banned = make_person("banned@example.com", display_name="Bea")
    outsider = make_person("outsider@example.com", display_name="Olu")
    staff = enable_two_factor(make_person("staff@example.com", display_name="Sta", is_staff=True, is_superuser=True))
    _join(community, facilitator, Membership.Role.FACILITATOR, Membership.State.ACTIVE)
    _join(community, co_facilitator, Membership.Role.FACILITATOR, Membership.State.ACTIVE)
    _join(community, member, Membership.Role.MEMBER, Membership.State.ACTIVE)
    _join(community, pending, Membership.Role.MEMBER, Membership.State.PENDING, accepted=False)
    _join(community, banned, Membership.Role.MEMBER, Membership.State.BANNED)
    return Circle(
        community=community,
        owner=owner,
        facilitator=facilitator,
        co_facilitator=co_facilitator,
        member=member,
        pending=pending,
        banned=banned,
        outsider=outsider,
        staff=staff,
        call_format=format_default(),
    )
