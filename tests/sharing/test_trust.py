"""The circle's privacy boundary through the real socket routing: who receives what
(sharing.audiences), and changes of standing that take effect at once. In CI these run on Redis."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings

from core import two_factor
from groups.models import RSVP, Membership
from groups.services.communities import membership_leave, membership_remove, membership_set_role
from moderation.services import ban_from_community
from sharing import broadcast
from tests.conftest import make_person
from tests.sharing.sockets import Socket

pytestmark = pytest.mark.django_db(transaction=True)


async def drop_in(room, email="lena@example.com", name="Lena"):
    """A member who did not RSVP arrives while drop-ins are allowed: they wait in the lobby."""
    return await database_sync_to_async(room.circle.add_member)(email, display_name=name)


async def start(fran, *others):
    await fran.state_at_least(max(socket.version for socket in (fran, *others)))  # everyone's arrival
    await fran.act("call.start")
    await fran.state_at_least(fran.version + 1)
    await fran.act("segment.next")  # the check-in round; the facilitator speaks first
    await fran.receive_until(lambda m: m["type"] == "state" and m["turn"] is not None)
    assert fran.last["turn"]["speaker"] == fran.last["you"]["participant"]


async def test_people_waiting_in_the_lobby_receive_nothing_the_circle_says(room, sockets):
    fran, maya = await sockets(room.facilitator, room.maya)
    await fran.send({"type": "settings", "allow_drop_ins": True})
    await fran.receive_until(lambda m: m["type"] == "state" and m["settings"]["allow_drop_ins"])
    await start(fran, maya)
    lena = Socket(room.call.pk, await drop_in(room))
    assert await lena.connect()
    waiting = await lena.state()
    assert waiting["you"]["state"] == "lobby"
    assert [p["name"] for p in waiting["participants"]] == ["Lena"]
    assert waiting["turn"] is None

    await fran.send({"type": "share.text", "text": "something I tell nobody else"})
    said = await maya.receive_until(lambda m: m["type"] == "share.text")
    assert said["text"] == "something I tell nobody else"
    assert await lena.none_of("share.text")
    # Even a message that reaches the lobby socket's own group is not passed on.
    await get_channel_layer().group_send(
        broadcast.person_group(room.call.pk, lena.user.pk),
        {"type": "room.relay", "message": {"type": "share.text", "version": 1, "participant": 1, "text": "x"}},
    )
    assert await lena.none_of("share.text")
    # Snapshots the lobby receives while the circle talks still name no one and show no turn.
    await fran.send({"type": "share.typing", "typing": True})
    later = await lena.state()
    assert later["turn"] is None and len(later["participants"]) == 1
    await lena.close()


async def test_turn_credentials_are_for_admitted_people_and_for_this_call(room, sockets):
    with override_settings(TURN_SECRET="k", TURN_URLS=["turn:t.example"], TURN_TTL_SECONDS=600):
        (fran,) = await sockets(room.facilitator)
        await fran.send({"type": "settings", "auto_admit": False})
        await fran.state_at_least(fran.version + 1)
        aiko = Socket(room.call.pk, room.aiko)
        assert await aiko.connect()
        assert (await aiko.state())["you"]["state"] == "lobby"
        assert await aiko.none_of("ice")
        await fran.state_at_least(aiko.version)
        await fran.send({"type": "participant.admit", "participant": aiko.last["you"]["participant"]})
        ice = await aiko.receive_until(lambda m: m["type"] == "ice")
        assert ice["servers"][-1]["username"].endswith(f":{room.call.pk}-{room.aiko.pk}")
        await aiko.close()


async def test_removing_someone_from_the_community_takes_them_out_of_the_live_call(room, sockets):
    fran, maya, jonas = await sockets(room.facilitator, room.maya, room.jonas)
    await start(fran, maya, jonas)
    membership = await database_sync_to_async(Membership.objects.get)(community=room.circle.community, user=room.maya)
    await database_sync_to_async(membership_remove)(membership=membership, actor=room.circle.owner)
    assert await maya.closed_with(timeout=2) == 4403
    after = await jonas.receive_until(
        lambda m: m["type"] == "state" and "Maya" not in [p["name"] for p in m["participants"]], timeout=2
    )
    assert "Maya" not in [p["name"] for p in after["participants"]]
    # Coming back is refused, and nothing more reaches them.
    again = Socket(room.call.pk, room.maya)
    assert await again.connect()
    assert (await again.error())["code"] == "forbidden"


async def test_leaving_the_community_leaves_the_live_call(room, sockets):
    fran, jonas = await sockets(room.facilitator, room.jonas)
    await database_sync_to_async(membership_leave)(community=room.circle.community, user=room.jonas)
    assert await jonas.closed_with(timeout=2) == 4403
    state = await fran.receive_until(
        lambda m: m["type"] == "state" and "Jonas" not in [p["name"] for p in m["participants"]], timeout=2
    )
    assert state["you"]["facilitator"] is True


async def test_a_ban_closes_the_banned_persons_sockets(room, sockets):
    _fran, aiko = await sockets(room.facilitator, room.aiko)
    await database_sync_to_async(ban_from_community)(
        community=room.circle.community, user=room.aiko, actor=room.circle.owner, reason="harm"
    )
    assert await aiko.closed_with(timeout=2) == 4403


async def test_a_demoted_facilitator_loses_their_powers_in_the_live_call(room, sockets):
    _fran, cody, maya = await sockets(room.facilitator, room.co_facilitator, room.maya)
    assert cody.last["you"]["facilitator"] is True
    membership = await database_sync_to_async(Membership.objects.get)(
        community=room.circle.community, user=room.co_facilitator
    )
    await database_sync_to_async(membership_set_role)(
        membership=membership, actor=room.circle.owner, role=Membership.Role.MEMBER
    )
    demoted = await cody.receive_until(lambda m: m["type"] == "state" and not m["you"]["facilitator"], timeout=2)
    assert demoted["you"]["role"] == "member"
    assert all(p["accommodations"] is None for p in demoted["participants"])
    maya_id = maya.last["you"]["participant"]
    await cody.send({"type": "participant.remove", "participant": maya_id})
    assert (await cody.error())["code"] == "forbidden"
    # Entering again does not bring the powers back: the call still names them, the community does
    # not, so they come in as any member would, with an RSVP.
    await cody.close()
    again = Socket(room.call.pk, room.co_facilitator)
    assert await again.connect()
    assert (await again.error())["code"] == "not_rsvped"


async def test_facilitator_powers_need_the_second_factor_where_the_rule_asks_for_it(room, sockets):
    """An owner named as the call's co-facilitator, without an authenticator, enters as a member."""
    owner_without = await database_sync_to_async(make_person)("own2@example.com", display_name="Ona")
    await database_sync_to_async(Membership.objects.create)(
        community=room.circle.community,
        user=owner_without,
        role=Membership.Role.OWNER,
        state=Membership.State.ACTIVE,
        accepted_agreements_version=room.circle.community.agreements_version,
    )
    room.call.co_facilitator = owner_without
    await database_sync_to_async(room.call.save)(update_fields=["co_facilitator"])
    await database_sync_to_async(two_factor.forget)(owner_without.pk)
    await database_sync_to_async(RSVP.objects.create)(call=room.call, user=owner_without, status=RSVP.Status.GOING)
    (_fran,) = await sockets(room.facilitator)
    ona = Socket(room.call.pk, owner_without)
    assert await ona.connect()
    state = await ona.state()
    assert state["you"]["facilitator"] is False and state["you"]["role"] == "member"
    await ona.close()


async def test_staff_without_a_second_factor_are_refused_by_the_socket(room):
    staff = await database_sync_to_async(make_person)("staff2@example.com", display_name="Sol", is_staff=True)
    socket = Socket(room.call.pk, staff)
    assert await socket.connect()
    assert (await socket.error())["code"] == "two_factor"
    assert await socket.closed_with() == 4403


async def test_staff_losing_their_second_factor_lose_the_room_at_once(room, sockets):
    from allauth.mfa.models import Authenticator

    from accounts.signals import two_factor_changed

    (staff,) = await sockets(room.circle.staff)
    assert staff.last["you"]["facilitator"] is True

    def remove():
        authenticator = Authenticator.objects.get(user=room.circle.staff)
        authenticator.delete()
        two_factor_changed(sender=None, user=room.circle.staff)

    await database_sync_to_async(remove)()
    assert await staff.closed_with(timeout=2) == 4403


async def test_a_call_given_to_another_co_facilitator_takes_the_controls_from_the_previous_one(room, sockets):
    from zoneinfo import ZoneInfo

    from groups.services.scheduling import CallDetails, call_update

    fran, cody = await sockets(room.facilitator, room.co_facilitator)
    assert cody.last["you"]["facilitator"] is True

    def give_to_nobody():
        call = type(room.call).objects.get(pk=room.call.pk)
        local = call.starts_at.astimezone(ZoneInfo(call.time_zone))
        details = CallDetails(
            title=call.title,
            format=call.format,
            facilitator=call.facilitator,
            co_facilitator=None,
            duration_minutes=int((call.ends_at - call.starts_at).total_seconds() // 60),
            capacity=call.capacity,
        )
        call_update(
            call=call,
            actor=room.facilitator,
            expected_version=call.version,
            details=details,
            day=local.date(),
            at=local.time().replace(tzinfo=None),
        )

    await database_sync_to_async(give_to_nobody)()
    demoted = await cody.receive_until(lambda m: m["type"] == "state" and not m["you"]["facilitator"], timeout=2)
    assert demoted["you"]["role"] == "member"
    assert (await fran.state())["you"]["facilitator"] is True
