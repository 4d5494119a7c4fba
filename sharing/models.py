"""The live room as rows. Every change goes through sharing.services.room_apply; nothing lives
only in a process. Deadlines are columns: whoever notices one has passed asks the service to act.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PRESENCE_TIMEOUT = timedelta(seconds=15)  # no heartbeat for this long: away
SPEAKER_AWAY_SKIP = timedelta(seconds=15)  # a speaker away this long is skipped
FACILITATOR_TAKEOVER = timedelta(seconds=30)  # a facilitator away this long hands over to the co-facilitator
EXTEND_STEP = timedelta(seconds=30)
BETWEEN_SEGMENTS = timedelta(seconds=8)
AUTO_END_AFTER = timedelta(minutes=30)  # a room still open this long after the call's end closes itself
CHECKIN_MAX_LENGTH = 24
# The calm set offered instead of a word, with the name a screen reader says.
CHECKIN_EMOJI = {
    "🌿": _("leaf"),
    "🌊": _("wave"),
    "☁️": _("cloud"),
    "🌙": _("moon"),
    "☀️": _("sun"),
    "🕯️": _("candle"),
    "🌱": _("seedling"),
    "🪨": _("stone"),
}


class Room(models.Model):
    class Status(models.TextChoices):
        LOBBY = "lobby", _("Not started")
        LIVE = "live", _("In progress")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    class Phase(models.TextChoices):
        NONE = "", _("None")
        GROUNDING = "grounding", _("Grounding")
        TURN = "turn", _("Turn")
        REFLECTIONS = "reflections", _("Reflections")
        BETWEEN = "between", _("Between")

    class OrderPolicy(models.TextChoices):
        RSVP = "rsvp", _("In the order people RSVP'd")
        RANDOM = "random", _("Shuffled")
        ARRANGED = "arranged", _("Arranged by the facilitator")

    class ShareMode(models.TextChoices):
        LISTEN = "listen", _("Just listen")
        REFLECTIONS = "reflections", _("Reflections welcome")
        RESONANCE = "resonance", _("Resonance only")

    call = models.OneToOneField("groups.Call", on_delete=models.CASCADE, primary_key=True, related_name="room")
    version = models.PositiveBigIntegerField(default=1)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.LOBBY)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.NONE, blank=True)
    paused_phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.NONE, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)

    # The agenda, copied from the call's format when the call starts.
    segments = models.JSONField(default=list, blank=True)
    grace_seconds = models.PositiveIntegerField(default=15)
    segment_index = models.IntegerField(default=-1)
    segment_started_at = models.DateTimeField(null=True, blank=True)
    segment_ends_at = models.DateTimeField(null=True, blank=True)  # open sharing's overall length
    segment_complete = models.BooleanField(default=False)  # the current segment is over; the next is due

    # Grounding, reflections and the pause between segments.
    phase_started_at = models.DateTimeField(null=True, blank=True)
    phase_ends_at = models.DateTimeField(null=True, blank=True)

    # The current turn.
    turn_number = models.PositiveIntegerField(default=0)
    speaker = models.ForeignKey("Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    turn_started_at = models.DateTimeField(null=True, blank=True)
    turn_ends_at = models.DateTimeField(null=True, blank=True)
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    turn_extended_seconds = models.PositiveIntegerField(default=0)
    share_mode = models.CharField(max_length=12, choices=ShareMode.choices, blank=True)
    typing = models.BooleanField(default=False)  # the speaker shares by typing
    resonance_count = models.PositiveIntegerField(default=0)
    reflector = models.ForeignKey("Participant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    round_pass = models.PositiveSmallIntegerField(default=1)  # 2 while those who passed are offered a turn again
    order = models.JSONField(default=list, blank=True)  # participant ids of the current round, in order

    # Settings the facilitator changes in the room.
    acting_facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_policy = models.CharField(max_length=10, choices=OrderPolicy.choices, default=OrderPolicy.RSVP)
    auto_admit = models.BooleanField(default=True)
    allow_drop_ins = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    talking_stick = models.BooleanField(default=True)

    wake_at = models.DateTimeField(null=True, blank=True, db_index=True)  # the next deadline, for the sweep
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["status", "wake_at"])]

    def __str__(self):
        return f"Room of call {self.call_id} ({self.status}/{self.phase}, v{self.version})"

    @property
    def state(self) -> str:
        """The state in sharing.room.states' table: lobby, paused, ended, or the live phase."""
        if self.status == self.Status.LIVE:
            return self.phase
        return self.status

    def segment(self) -> dict | None:
        if 0 <= self.segment_index < len(self.segments):
            return self.segments[self.segment_index]
        return None

    def next_deadline(self):
        """The earliest moment at which time alone changes this room."""
        if self.status != self.Status.LIVE:
            return None
        candidates = []
        if self.phase == self.Phase.TURN:
            candidates.append(self.grace_ends_at)
        elif self.phase in {self.Phase.GROUNDING, self.Phase.REFLECTIONS, self.Phase.BETWEEN}:
            candidates.append(self.phase_ends_at)
            if self.phase == self.Phase.BETWEEN:
                candidates.append(self.segment_ends_at)
        present = [moment for moment in candidates if moment is not None]
        return min(present) if present else None

    def wake_time(self, participants):
        """The earliest moment at which time or an absence changes this room: its next deadline, the
        moment an away speaker is skipped, and the moment the co-facilitator takes over from an away
        facilitator (in a paused room too). The sweep wakes the room then; snapshots carry it.

        Someone still marked connected whose heartbeats stopped is not counted here: the sweep finds
        them by their `last_seen_at`, and marking them away moves this moment."""
        candidates = [self.next_deadline()]
        if self.status == self.Status.LIVE and self.phase == self.Phase.TURN and self.speaker_id is not None:
            speaker = next((p for p in participants if p.pk == self.speaker_id), None)
            if speaker is not None and not speaker.connected:
                candidates.append((speaker.disconnected_at or speaker.last_seen_at) + SPEAKER_AWAY_SKIP)
        if self.status != self.Status.ENDED:
            facilitator = next((p for p in participants if p.role == Participant.Role.FACILITATOR), None)
            co = next((p for p in participants if p.role == Participant.Role.CO_FACILITATOR), None)
            if (
                facilitator is not None
                and not facilitator.connected
                and co is not None
                and co.connected
                and self.acting_facilitator_id != co.user_id
            ):
                candidates.append((facilitator.disconnected_at or facilitator.last_seen_at) + FACILITATOR_TAKEOVER)
        present = [moment for moment in candidates if moment is not None]
        return min(present) if present else None


class Participant(models.Model):
    class Role(models.TextChoices):
        FACILITATOR = "facilitator", _("Facilitator")
        CO_FACILITATOR = "co_facilitator", _("Co-facilitator")
        MEMBER = "member", _("Member")

    class State(models.TextChoices):
        LOBBY = "lobby", _("Waiting in the lobby")
        ADMITTED = "admitted", _("In the circle")
        REMOVED = "removed", _("Removed from this call")
        LEFT = "left", _("No longer in this call")  # their standing changed; they may come back if it allows

    class Round(models.TextChoices):
        NONE = "", _("Not in this round")
        PENDING = "pending", _("Waiting for their turn")
        SPEAKING = "speaking", _("Speaking")
        DONE = "done", _("Has shared")
        PASSED = "passed", _("Passed")
        OFFERED = "offered", _("Offered a turn again")
        DECLINED = "declined", _("Passed again")
        SKIPPED = "skipped", _("Skipped")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    state = models.CharField(max_length=10, choices=State.choices, default=State.LOBBY)
    arrived_at = models.DateTimeField(default=timezone.now)
    admitted_at = models.DateTimeField(null=True, blank=True)
    connected = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    round_status = models.CharField(max_length=10, choices=Round.choices, default=Round.NONE, blank=True)
    hand_raised_at = models.DateTimeField(null=True, blank=True)
    resonated_turn = models.PositiveIntegerField(default=0)  # the turn they last resonated with
    has_shared = models.BooleanField(default=False)
    turns_taken = models.PositiveIntegerField(default=0)
    needs_support = models.BooleanField(default=False)
    checkin = models.CharField(max_length=CHECKIN_MAX_LENGTH, blank=True)  # for this call only; emptied at its end

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="participant_unique")]
        indexes = [models.Index(fields=["room", "state"]), models.Index(fields=["connected", "last_seen_at"])]

    def __str__(self):
        return f"{self.user} in room {self.room_id}"

    @property
    def is_facilitator(self) -> bool:
        return self.role in {self.Role.FACILITATOR, self.Role.CO_FACILITATOR}

    @property
    def is_admitted(self) -> bool:
        return self.state == self.State.ADMITTED

    def away_since(self, now):
        """When this person was last known to be here, if they are away now; None while present."""
        if not self.connected:
            return self.disconnected_at or self.last_seen_at
        if self.last_seen_at < now - PRESENCE_TIMEOUT:
            return self.last_seen_at
        return None

    def is_present(self, now) -> bool:
        return self.away_since(now) is None


class RoomEvent(models.Model):
    """What happened in a room, structurally: who, what, when, how long. Never what was said."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events")
    version = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)  # structural facts only: segment, outcome, mode

    class Meta:
        ordering = ["room", "version", "pk"]
        indexes = [models.Index(fields=["room", "kind"])]

    def __str__(self):
        return f"{self.kind} in room {self.room_id} at v{self.version}"
