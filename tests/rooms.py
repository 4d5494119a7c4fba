"""A call about to start, with its facilitator, co-facilitator and three members who RSVP'd."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from groups.models import Call
from groups.services.rsvps import rsvp_set
from sharing import services
from sharing.errors import RoomError


def at(t0, seconds):
    """The moment `seconds` after t0."""
    return t0 + timedelta(seconds=seconds)


@dataclass(eq=False)
class Room:
    call: Call
    circle: object
    facilitator: object
    co_facilitator: object
    maya: object
    jonas: object
    aiko: object
    alive: set = field(default_factory=set)  # people whose sockets are open and sending heartbeats

    @property
    def members(self):
        return [self.maya, self.jonas, self.aiko]

    @property
    def everyone(self):
        return [self.facilitator, self.co_facilitator, *self.members]

    def enter(self, *people, now=None):
        entered = [services.room_enter(call_id=self.call.pk, user=p, now=now) for p in people]
        self.alive |= {p.pk for p in people}
        return entered

    def leave(self, user, now=None):
        self.alive.discard(user.pk)
        services.room_leave(call_id=self.call.pk, user=user, now=now)

    def go_silent(self, user):
        """The socket dies without closing: no more heartbeats, and no goodbye."""
        self.alive.discard(user.pk)

    def heartbeats(self, now):
        from sharing.models import Participant

        if now is not None and self.alive:
            Participant.objects.filter(room_id=self.call.pk, user_id__in=self.alive, connected=True).update(
                last_seen_at=now
            )

    def act(self, user, action, now=None, version=None, **payload):
        self.heartbeats(now)
        return services.room_apply(
            call_id=self.call.pk, user=user, action=action, payload=payload, expected_version=version, now=now
        )

    def refused(self, user, action, now=None, **payload) -> str:
        """The error code for an action that must be refused."""
        before = self.snapshot(now)
        try:
            self.act(user, action, now=now, **payload)
        except RoomError as error:
            after = self.snapshot(now)
            assert after == before, "a refused action changed the room"
            return error.code
        raise AssertionError(f"{action} was not refused")

    def snapshot(self, now=None):
        return services.current_snapshot(call_id=self.call.pk, now=now)

    def tick(self, now=None):
        self.heartbeats(now)
        return services.room_tick(call_id=self.call.pk, now=now)

    def pid(self, user) -> int:
        from sharing.models import Participant

        return Participant.objects.get(room_id=self.call.pk, user=user).pk

    def speaker(self, now=None):
        snap = self.snapshot(now)
        if snap["turn"] is None:
            return None
        return next(p["name"] for p in snap["participants"] if p["id"] == snap["turn"]["speaker"])


def build_room(circle) -> Room:
    call = circle.call(starts_in=timedelta(minutes=5), co_facilitator=circle.co_facilitator, title="Circle")
    maya = circle.member
    jonas = circle.add_member("jonas@example.com", display_name="Jonas")
    aiko = circle.add_member("aiko@example.com", display_name="Aiko")
    for minutes, person in ((3, maya), (2, jonas), (1, aiko)):  # RSVP order: Maya, Jonas, Aiko
        rsvp_set(call_id=call.pk, user=person, going=True, now=timezone.now() - timedelta(minutes=minutes))
    return Room(
        call=call,
        circle=circle,
        facilitator=circle.facilitator,
        co_facilitator=circle.co_facilitator,
        maya=maya,
        jonas=jonas,
        aiko=aiko,
    )
