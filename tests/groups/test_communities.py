import json
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditEntry
from groups.models import RSVP, Agreement, Community, Invite, Membership, Notification
from groups.services import communities as services
from groups.services.rsvps import rsvp_set
from tests.conftest import make_person


def state(community, user):
    membership = Membership.objects.filter(community=community, user=user).first()
    return membership and (membership.role, membership.state)


def test_creating_a_community_makes_the_creator_owner_with_default_agreements(db, person):
    founder = person("founder@example.com")
    community = services.community_create(owner=founder, name="Quiet voices", slug="quiet-voices")
    assert state(community, founder) == ("owner", "active")
    agreement = Agreement.objects.get(community=community)
    assert agreement.version == 1
    assert "stays in the circle" in agreement.text
    assert "No advice unless someone asks" in agreement.text
    assert "Passing is always fine" in agreement.text
    assert "own experience" in agreement.text


def test_a_taken_web_address_is_explained(db, person, circle):
    with pytest.raises(ValidationError) as error:
        services.community_create(owner=circle.outsider, name="Copy", slug=circle.community.slug)
    assert "already uses this web address" in error.value.message_dict["slug"][0]
    assert Community.objects.count() == 1


def test_open_communities_welcome_at_once(circle):
    circle.community.join_policy = Community.JoinPolicy.OPEN
    circle.community.save()
    services.membership_join(community=circle.community, user=circle.outsider)
    assert state(circle.community, circle.outsider) == ("member", "active")


def test_by_request_a_facilitator_approves_and_the_person_is_told(circle):
    circle.community.join_question = "What brings you here?"
    membership = services.membership_join(community=circle.community, user=circle.outsider, answer="Neck dystonia")
    assert (membership.state, membership.join_answer) == ("pending", "Neck dystonia")
    asked = set(Notification.objects.filter(kind="join_requested").values_list("recipient", flat=True))
    assert asked == {circle.owner.pk, circle.facilitator.pk, circle.co_facilitator.pk}
    with pytest.raises(PermissionDenied):
        services.membership_approve(membership=membership, actor=circle.member)
    services.membership_approve(membership=membership, actor=circle.facilitator)
    assert state(circle.community, circle.outsider) == ("member", "active")
    assert Notification.objects.filter(kind="join_approved", recipient=circle.outsider).exists()


def test_a_declined_request_leaves_no_record_of_the_person(circle):
    membership = services.membership_join(community=circle.community, user=circle.outsider, answer="Hello")
    services.membership_decline(membership=membership, actor=circle.facilitator)
    assert state(circle.community, circle.outsider) is None
    assert Notification.objects.filter(kind="join_declined", recipient=circle.outsider).exists()
    # The audit log keeps that a facilitator declined a request, not whose.
    declined = AuditEntry.objects.get(action="member.decline")
    assert (declined.actor, declined.community, declined.subject) == (circle.facilitator, circle.community, None)
    assert str(circle.outsider.pk) not in json.dumps(declined.detail) and declined.reason == ""
    assert not AuditEntry.objects.filter(subject=circle.outsider).exists()


def test_invitation_only_communities_refuse_requests(circle):
    circle.community.join_policy = Community.JoinPolicy.INVITE
    circle.community.save()
    with pytest.raises(ValidationError, match="invitation only"):
        services.membership_join(community=circle.community, user=circle.outsider)
    assert state(circle.community, circle.outsider) is None


def test_banned_people_cannot_rejoin_by_request_or_invite(circle):
    with pytest.raises(PermissionDenied):
        services.membership_join(community=circle.community, user=circle.banned)
    invite = services.invite_create(community=circle.community, actor=circle.facilitator)
    with pytest.raises(PermissionDenied):
        services.invite_accept(token=invite.token, user=circle.banned)
    assert state(circle.community, circle.banned) == ("member", "banned")
    assert Invite.objects.get(pk=invite.pk).uses == 0


def test_invites_have_a_use_limit_an_expiry_and_can_be_revoked(circle):
    invite = services.invite_create(community=circle.community, actor=circle.facilitator, days=7, max_uses=2)
    first, second, third = (make_person(f"inv{n}@example.com") for n in range(3))
    services.invite_accept(token=invite.token, user=first)
    services.invite_accept(token=invite.token, user=first)  # joining twice uses it once
    services.invite_accept(token=invite.token, user=second)
    with pytest.raises(ValidationError, match="expired or has been used up"):
        services.invite_accept(token=invite.token, user=third)
    assert state(circle.community, second) == ("member", "active")

    expiring = services.invite_create(community=circle.community, actor=circle.facilitator, days=1, max_uses=5)
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)), pytest.raises(ValidationError):
        services.invite_accept(token=expiring.token, user=third)
    revoked = services.invite_create(community=circle.community, actor=circle.facilitator, max_uses=5)
    services.invite_revoke(invite=revoked, actor=circle.facilitator)
    with pytest.raises(ValidationError):
        services.invite_accept(token=revoked.token, user=third)
    assert state(circle.community, third) is None


@pytest.mark.parametrize(
    ("days", "uses", "field"), [(0, 1, "days"), (91, 1, "days"), (7, 0, "max_uses"), (7, 101, "max_uses")]
)
def test_invite_limits_are_checked(circle, days, uses, field):
    with pytest.raises(ValidationError) as error:
        services.invite_create(community=circle.community, actor=circle.facilitator, days=days, max_uses=uses)
    assert field in error.value.message_dict
    assert not Invite.objects.exists()


def test_members_cannot_make_invites(circle):
    with pytest.raises(PermissionDenied):
        services.invite_create(community=circle.community, actor=circle.member)


def test_changed_agreements_must_be_accepted_again(circle):
    assert Membership.objects.get(community=circle.community, user=circle.member).has_accepted(1)
    agreement = services.agreements_publish(
        community=circle.community, actor=circle.facilitator, text="New: be gentle."
    )
    assert agreement.version == 2
    membership = Membership.objects.get(community=circle.community, user=circle.member)
    assert not membership.has_accepted(2)
    with pytest.raises(ValidationError, match="changed while you were reading"):
        services.agreements_accept(community=circle.community, user=circle.member, version=1)
    services.agreements_accept(community=circle.community, user=circle.member, version=2)
    assert Membership.objects.get(community=circle.community, user=circle.member).has_accepted(2)
    # The facilitator who published them has accepted them already; old versions are kept.
    assert Membership.objects.get(community=circle.community, user=circle.facilitator).has_accepted(2)
    assert Agreement.objects.filter(community=circle.community).count() == 2


def test_publishing_the_same_text_makes_no_new_version(circle):
    current = services.agreements_current(circle.community)
    again = services.agreements_publish(community=circle.community, actor=circle.facilitator, text=current.text)
    assert again.version == 1


def test_members_cannot_change_the_agreements(circle):
    with pytest.raises(PermissionDenied):
        services.agreements_publish(community=circle.community, actor=circle.member, text="Mine now")


def test_owners_manage_facilitators_and_a_community_keeps_an_owner(circle):
    member = Membership.objects.get(community=circle.community, user=circle.member)
    with pytest.raises(PermissionDenied):
        services.membership_set_role(membership=member, actor=circle.facilitator, role="facilitator")
    services.membership_set_role(membership=member, actor=circle.owner, role="facilitator")
    assert state(circle.community, circle.member) == ("facilitator", "active")
    owner = Membership.objects.get(community=circle.community, user=circle.owner)
    with pytest.raises(ValidationError, match="at least one owner"):
        services.membership_set_role(membership=owner, actor=circle.owner, role="member")
    with pytest.raises(ValidationError, match="only owner"):
        services.membership_leave(community=circle.community, user=circle.owner)


def test_leaving_cancels_rsvps_and_frees_seats_for_the_waitlist(circle):
    call = circle.call(capacity=2)
    waiting = circle.add_member("waiting@example.com")
    rsvp_set(call_id=call.pk, user=circle.add_member("seated@example.com"), going=True)
    rsvp_set(call_id=call.pk, user=circle.member, going=True)
    rsvp_set(call_id=call.pk, user=waiting, going=True)
    services.membership_leave(community=circle.community, user=circle.member)
    assert state(circle.community, circle.member) == ("member", "left")
    assert RSVP.objects.get(call=call, user=circle.member).status == "not_going"
    assert RSVP.objects.get(call=call, user=waiting).status == "going"


def test_facilitators_remove_members_but_only_owners_remove_facilitators(circle):
    facilitator = Membership.objects.get(community=circle.community, user=circle.co_facilitator)
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=facilitator, actor=circle.facilitator)
    member = Membership.objects.get(community=circle.community, user=circle.member)
    services.membership_remove(membership=member, actor=circle.facilitator)
    assert state(circle.community, circle.member) == ("member", "left")
    services.membership_remove(membership=facilitator, actor=circle.owner)
    assert state(circle.community, circle.co_facilitator) == ("member", "left")


def test_approving_on_the_members_page_updates_in_place(client, circle):
    client.force_login(circle.facilitator)
    pending = Membership.objects.get(community=circle.community, user=circle.pending)
    url = f"/c/{circle.community.slug}/members/{pending.pk}/approve/"
    response = client.post(url, headers={"X-Fragment": "membership"})
    assert response.status_code == 200
    assert "Pat is now a member." in response.content.decode()
    assert state(circle.community, circle.pending) == ("member", "active")


def test_invite_link_page_joins_and_leads_to_the_agreements(client, circle):
    invite = services.invite_create(community=circle.community, actor=circle.facilitator)
    client.force_login(circle.outsider)
    assert client.get(f"/invite/{invite.token}/").status_code == 200
    response = client.post(f"/invite/{invite.token}/")
    assert response["Location"] == f"/c/{circle.community.slug}/agreements/"
    assert state(circle.community, circle.outsider) == ("member", "active")
    services.invite_revoke(invite=invite, actor=circle.facilitator)
    response = client.get(f"/invite/{invite.token}/")
    assert response.status_code == 410
    assert "no longer works" in response.content.decode()
