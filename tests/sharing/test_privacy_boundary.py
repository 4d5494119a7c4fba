"""A model-based test of the circle's privacy boundary (sharing.audiences).

Random sequences of entering, admitting, removing from the call or the community, leaving, bans,
demotions and promotions, a call given to another co-facilitator, typed shares, typed reflections
sent and shown, support messages, audio signals and syncs run against
real sockets through the real routing. After every step each open socket has received exactly
what the policy allows it: nothing more, and for people in the circle nothing less.
"""

import asyncio
import itertools
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from hypothesis.strategies import booleans, sampled_from

from attunement_site.asgi import application
from core import standing, two_factor
from groups.models import RSVP, Call, Membership
from groups.services.communities import membership_leave, membership_remove, membership_set_role
from moderation.services import ban_from_community
from sharing import services
from sharing.models import Participant
from tests.sharing.sockets import ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

RELAYED = {"share.text", "support.message", "rtc.offer", "reflection", "reflection.shown"}
MEMBERS = ("maya", "jonas", "lena")  # Lena did not RSVP: she drops in and waits in the lobby
PEOPLE = ("fran", "cody", *MEMBERS)
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
QUIET = 0.15  # seconds with nothing arriving: the step's messages are all in


class Tab:
    """One open socket and everything it has received since the last check."""

    def __init__(self, communicator):
        self.communicator = communicator
        self.inbox = []
        self.closed = False

    async def drain(self):
        while not self.closed and not await self.communicator.receive_nothing(timeout=QUIET):
            output = await self.communicator.receive_output(timeout=1)
            if output["type"] == "websocket.close":
                self.closed = True
            else:
                self.inbox.append(json.loads(output["text"]))


class PrivacyBoundary(RuleBasedStateMachine):
    """The model: each person's membership, role and seat. Expectations come from the model alone."""

    room = None  # set by the test
    steps = 0

    def __init__(self):
        super().__init__()
        channel_layers.backends.clear()
        self.loop = asyncio.new_event_loop()
        self.tabs: dict[str, Tab] = {}
        self.expected: dict[str, list] = {}  # relayed messages each person must receive, this step
        self.texts = itertools.count()

    # Helpers

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def user(self, name):
        return self.users[name]

    def in_circle(self, name) -> bool:
        return self.seat[name] == "admitted" and self.member[name] == "active"

    def facilitates(self, name) -> bool:
        return self.in_circle(name) and self.role[name] in {"facilitator", "co_facilitator"}

    def cody_role(self) -> str:
        return "co_facilitator" if self.cody_named and self.cody_may_facilitate else "member"

    async def _open(self, name):
        headers = [(b"origin", ORIGIN), (b"cookie", await database_sync_to_async(session_cookie)(self.user(name)))]
        communicator = WebsocketCommunicator(application, f"/ws/calls/{self.call.pk}/", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        return Tab(communicator)

    def settle(self):
        type(self).steps += 1

        async def all_tabs():
            await asyncio.sleep(QUIET)
            await asyncio.gather(*(tab.drain() for tab in self.tabs.values()))

        self.run(all_tabs())

    def lose_seat(self, name, seat):
        self.seat[name] = seat

    # The room

    @initialize()
    def start(self):
        room = self.room
        self.call = room.circle.call(starts_in=timedelta(minutes=5), co_facilitator=room.co_facilitator)
        lena = Membership.objects.get(user__email="lena@example.com").user
        self.users = {
            "fran": room.facilitator,
            "cody": room.co_facilitator,
            "maya": room.maya,
            "jonas": room.jonas,
            "lena": lena,
        }
        for name in ("maya", "jonas"):
            RSVP.objects.create(call=self.call, user=self.users[name], status=RSVP.Status.GOING)
        Membership.objects.filter(user__in=[self.users[n] for n in MEMBERS]).update(
            state=Membership.State.ACTIVE, role=Membership.Role.MEMBER, banned_until=None
        )
        Membership.objects.filter(user=room.co_facilitator).update(role=Membership.Role.FACILITATOR)
        for user in self.users.values():
            two_factor.forget(user.pk)
            user.__dict__.pop("_membership_cache", None)
        self.member = dict.fromkeys(PEOPLE, "active")
        self.role = {"fran": "facilitator", "cody": "co_facilitator", **dict.fromkeys(MEMBERS, "member")}
        self.cody_named = self.cody_may_facilitate = True
        self.phase = "turn"  # Fran shares; "reflections" once she finishes
        self.reflections = []  # typed reflections Fran received, which she may show
        self.seat = dict.fromkeys(PEOPLE, "none")
        self.tabs["fran"] = self.run(self._open("fran"))
        self.seat["fran"] = "admitted"
        self.settle()
        version = self.last_state("fran")["version"]
        services.room_apply(
            call_id=self.call.pk, user=room.facilitator, action="settings", payload={"allow_drop_ins": True}
        )
        services.room_apply(call_id=self.call.pk, user=room.facilitator, action="call.start")
        services.room_apply(call_id=self.call.pk, user=room.facilitator, action="segment.next")
        services.room_apply(call_id=self.call.pk, user=room.facilitator, action="segment.next")  # sharing round
        self.settle()
        assert self.last_state("fran")["version"] >= version + 4
        assert self.last_state("fran")["turn"]["speaker"] == self.last_state("fran")["you"]["participant"]
        self.check()
        for name in PEOPLE[1:]:  # everyone arrives; Lena waits in the lobby
            self.enter(name)
        self.check()

    def last_state(self, name):
        return next(m for m in reversed(self.tabs[name].inbox) if m["type"] == "state")

    def teardown(self):
        async def close_all():
            for tab in self.tabs.values():
                if not tab.closed:
                    await tab.communicator.disconnect()

        self.run(close_all())
        self.loop.close()

    # Rules

    @rule(name=sampled_from(PEOPLE[1:]))
    def enter(self, name):
        if name in self.tabs and not self.tabs[name].closed:
            return
        self.tabs[name] = self.run(self._open(name))
        refused = self.member[name] != "active" or self.seat[name] == "removed"
        if not refused and self.seat[name] in {"none", "left"}:
            # Maya and Jonas RSVP'd; Lena and a Cody who no longer facilitates drop in and wait.
            self.seat[name] = (
                "lobby" if name == "lena" or (self.role[name] == "member" and name == "cody") else "admitted"
            )
        self.settle()
        assert self.tabs[name].closed == refused, (name, self.tabs[name].inbox)
        if refused:
            del self.tabs[name]

    @rule(name=sampled_from(PEOPLE[1:]))
    def close_tab(self, name):
        tab = self.tabs.pop(name, None)
        if tab is not None and not tab.closed:
            self.run(tab.communicator.disconnect())
        self.settle()

    @rule()
    def admit_lena(self):
        if self.seat["lena"] != "lobby":
            return
        pid = Participant.objects.get(room_id=self.call.pk, user=self.user("lena")).pk
        services.room_apply(
            call_id=self.call.pk, user=self.user("fran"), action="participant.admit", payload={"participant": pid}
        )
        self.seat["lena"] = "admitted"
        self.settle()

    @rule(name=sampled_from(MEMBERS))
    def remove_from_call(self, name):
        if self.seat[name] not in {"lobby", "admitted"} or self.member[name] != "active":
            return
        pid = Participant.objects.get(room_id=self.call.pk, user=self.user(name)).pk
        services.room_apply(
            call_id=self.call.pk, user=self.user("fran"), action="participant.remove", payload={"participant": pid}
        )
        self.lose_seat(name, "removed")
        self.settle()

    @rule(name=sampled_from(MEMBERS))
    def remove_from_community(self, name):
        if self.member[name] != "active":
            return
        membership = Membership.objects.get(community=self.room.circle.community, user=self.user(name))
        membership_remove(membership=membership, actor=self.room.circle.owner)
        self.member[name] = "left"
        if self.seat[name] in {"lobby", "admitted"}:
            self.lose_seat(name, "left")
        self.settle()

    @rule(name=sampled_from(MEMBERS))
    def leave_community(self, name):
        if self.member[name] != "active":
            return
        membership_leave(community=self.room.circle.community, user=self.user(name))
        self.member[name] = "left"
        if self.seat[name] in {"lobby", "admitted"}:
            self.lose_seat(name, "left")
        self.settle()

    @rule(name=sampled_from(MEMBERS))
    def ban(self, name):
        if self.member[name] == "banned":
            return
        ban_from_community(
            community=self.room.circle.community, user=self.user(name), actor=self.room.circle.owner, reason="harm"
        )
        self.member[name] = "banned"
        if self.seat[name] in {"lobby", "admitted"}:
            self.lose_seat(name, "removed")
        self.settle()

    @rule(facilitates=sampled_from([False, True]))
    def set_cody_role(self, facilitates):
        role = Membership.Role.FACILITATOR if facilitates else Membership.Role.MEMBER
        membership = Membership.objects.get(community=self.room.circle.community, user=self.user("cody"))
        membership_set_role(membership=membership, actor=self.room.circle.owner, role=role)
        self.cody_may_facilitate = facilitates
        self.role["cody"] = self.cody_role()
        self.settle()

    @rule()
    def reassign_co_facilitator(self):
        """The call is given another co-facilitator (nobody), or Cody again."""
        self.cody_named = not self.cody_named
        Call.objects.filter(pk=self.call.pk).update(co_facilitator=self.user("cody") if self.cody_named else None)
        standing.announce(user_id=self.user("cody").pk, call_id=self.call.pk)
        self.role["cody"] = self.cody_role()
        self.settle()

    @rule()
    def fran_finishes_her_share(self):
        if self.phase != "turn":
            return
        services.room_apply(call_id=self.call.pk, user=self.user("fran"), action="turn.finish")
        self.phase = "reflections"
        self.settle()

    @rule(name=sampled_from(PEOPLE[1:]), show=booleans())
    def send_reflection(self, name, show):
        """Someone sends Fran a typed reflection (her share ends first if it has not), and she may show it."""
        if name not in self.tabs:
            return
        if self.phase == "turn":
            self.fran_finishes_her_share()
        text = f"reflection {next(self.texts)}"
        message = {"type": "reflection.send", "text": text}
        self.run(self.tabs[name].communicator.send_to(text_data=json.dumps(message)))
        if self.in_circle(name):
            self.expected.setdefault("fran", []).append(("reflection", text))
        self.settle()
        self.reflections += [m for m in self.tabs["fran"].inbox if m["type"] == "reflection" and m["text"] == text]
        if show:
            self.show_reflection()

    @rule()
    def show_reflection(self):
        if not self.reflections:
            return
        shown = self.reflections.pop(0)
        message = {"type": "reflection.show", **{key: shown[key] for key in ("id", "from", "text", "sig")}}
        self.run(self.tabs["fran"].communicator.send_to(text_data=json.dumps(message)))
        for name in self.tabs:
            if self.in_circle(name):
                self.expected.setdefault(name, []).append(("reflection.shown", shown["text"]))
        self.settle()

    @rule()
    def share_text(self):
        if self.phase != "turn":
            return
        text = f"words {next(self.texts)}"
        self.run(self.tabs["fran"].communicator.send_to(text_data=json.dumps({"type": "share.text", "text": text})))
        for name in self.tabs:
            if self.in_circle(name):
                self.expected.setdefault(name, []).append(("share.text", text))
        self.settle()

    @rule(name=sampled_from(MEMBERS))
    def ask_for_support(self, name):
        if name not in self.tabs or not self.in_circle(name):
            return
        services.room_apply(call_id=self.call.pk, user=self.user(name), action="support.request")
        text = f"help {next(self.texts)}"
        message = {"type": "support.message", "text": text}
        self.run(self.tabs[name].communicator.send_to(text_data=json.dumps(message)))
        for other in self.tabs:
            if other == name or self.facilitates(other):
                self.expected.setdefault(other, []).append(("support.message", text))
        self.settle()

    @rule(sender=sampled_from(PEOPLE), to=sampled_from(PEOPLE))
    def signal(self, sender, to):
        target = to
        if sender == target or sender not in self.tabs:
            return
        pid = Participant.objects.filter(room_id=self.call.pk, user=self.user(target)).values_list("pk", flat=True)
        if not pid:
            return
        sdp = f"{SDP}a=note:{next(self.texts)}\r\n"
        message = {"type": "rtc.offer", "to": pid[0], "sdp": sdp}
        self.run(self.tabs[sender].communicator.send_to(text_data=json.dumps(message)))
        if self.in_circle(sender) and self.in_circle(target) and target in self.tabs:
            self.expected.setdefault(target, []).append(("rtc.offer", sdp))
        self.settle()

    @rule(name=sampled_from(PEOPLE))
    def sync(self, name):
        if name in self.tabs:
            self.run(self.tabs[name].communicator.send_to(text_data=json.dumps({"type": "sync"})))
            self.settle()

    # After every step

    @invariant()
    def each_socket_received_exactly_what_the_policy_allows(self):
        self.check()

    def check(self):
        for name, tab in list(self.tabs.items()):
            seat = self.seat[name] if self.member[name] == "active" else "gone"
            if seat in {"removed", "left", "gone"}:
                assert tab.closed, f"{name} lost their seat but their socket is open"
            relayed = [(m["type"], m.get("text") or m.get("sdp")) for m in tab.inbox if m["type"] in RELAYED]
            assert relayed == self.expected.get(name, []), (name, seat, relayed, self.expected.get(name))
            for message in tab.inbox:
                if message["type"] == "ice":
                    assert self.in_circle(name) or tab.closed, f"{name} got audio servers outside the circle"
                if message["type"] != "state":
                    continue
                others = [p["name"] for p in message["participants"] if p["id"] != message["you"]["participant"]]
                if message["you"]["state"] != "admitted":
                    assert others == [] and message["turn"] is None, f"{name} outside the circle saw {others}"
                elif not message["you"]["facilitator"]:
                    assert all(p["accommodations"] is None for p in message["participants"])
            states = [m for m in tab.inbox if m["type"] == "state"]
            if states and not tab.closed:
                newest = states[-1]["you"]
                assert newest["state"] == ("admitted" if self.seat[name] == "admitted" else "lobby"), (name, newest)
                assert newest["facilitator"] == self.facilitates(name), (name, newest)
            tab.inbox.clear()
            if tab.closed:
                del self.tabs[name]
        self.expected.clear()


def test_every_socket_receives_exactly_what_the_policy_allows(room):
    room.circle.add_member("lena@example.com", display_name="Lena")
    PrivacyBoundary.room = room
    run_state_machine_as_test(
        PrivacyBoundary,
        settings=settings(
            max_examples=10,
            stateful_step_count=18,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert PrivacyBoundary.steps > 20, "the machine ran"
