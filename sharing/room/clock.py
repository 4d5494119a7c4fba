"""The room's clock: what time and presence have made due, applied once (`room_tick`), and the
sweep that ticks every room whose wake time has come.

Deadlines are columns. Whoever notices one has passed (a browser's nudge, the periodic sweep) asks
`room_tick`. Of the nudges the browsers of a room send for one version, across every process, the
first claims it in the cache and the others return at once; the row lock makes whatever still
comes together (the sweep, a nudge without a cache) produce one change.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sharing.models import (
    AUTO_END_AFTER,
    FACILITATOR_TAKEOVER,
    PRESENCE_TIMEOUT,
    SPEAKER_AWAY_SKIP,
    Participant,
    Room,
    RoomEvent,
)
from sharing.room import actions, liveness, states, work
from sharing.room.work import Change, NoChange

MAX_CASCADE = 20
SWEEP_RETRY = timedelta(seconds=5)  # a room whose tick failed is tried again this much later
logger = logging.getLogger("attunement.room")


def due_actions(change: Change) -> list[str]:
    """What time and presence have made due in this room, in the order they apply."""
    room, now = change.room, change.now
    due = []
    stale = [p for p in change.participants.values() if p.connected and not p.is_present(now)]
    if stale:
        due.append("presence.leave")
    if (
        room.status in {Room.Status.LIVE, Room.Status.PAUSED, Room.Status.LOBBY}
        and now >= change.call.ends_at + AUTO_END_AFTER
    ):
        return [*due, "call.end"]
    if room.status == Room.Status.LIVE:
        deadline = room.next_deadline()
        if deadline is not None and now >= deadline:
            due.append("deadline")
        if room.phase == Room.Phase.TURN and room.speaker is not None:
            away = room.speaker.away_since(now)
            if away is not None and now - away >= SPEAKER_AWAY_SKIP:
                due.append("speaker.away")
    if room.status != Room.Status.ENDED:
        facilitator = next((p for p in change.participants.values() if p.role == Participant.Role.FACILITATOR), None)
        if facilitator is not None:
            away = facilitator.away_since(now)
            if away is not None and now - away >= FACILITATOR_TAKEOVER:
                due.append("facilitator.takeover")
    return due


def mark_stale_away(change: Change) -> bool:
    """Everyone still marked connected whose heartbeats stopped is away since their last one."""
    marked = False
    for p in change.participants.values():
        if p.connected and not p.is_present(change.now):
            p.connected = False
            p.disconnected_at = p.last_seen_at
            change.event("presence.left", subject=p)
            marked = True
    return marked


def apply_due_locked(change: Change) -> list[states.Transition]:
    """Apply, one at a time, whatever time and presence have made due. What is due is worked out
    again after each step, because each step changes the room: a due action that the room has moved
    past (the speaker who was to be skipped for being away is no longer speaking, say) is left out,
    never raised."""
    applied = []
    for _ in range(MAX_CASCADE):
        progressed = False
        for action in due_actions(change):
            if action == "presence.leave":
                progressed = mark_stale_away(change)
            else:
                try:
                    row = states.check_allowed(action, change.room.state, {states.SYSTEM})
                    actions.HANDLERS[action](change, {})
                except (NoChange, states.TransitionError):
                    continue
                states.check_landed(row, change.room.state)
                applied.append(row)
                progressed = True
            if progressed:
                break  # the room changed: ask again what is due
        if not progressed or change.room.status == Room.Status.ENDED:
            break
    return applied


def rewake_locked(change: Change) -> None:
    """Nothing was due after all (a heartbeat came, or the moment was computed from rows that have
    changed since): store the room's real next wake time, and never one in the past, so that the
    sweep does not wake it again every second for nothing. No new version: nothing changed."""
    room = change.room
    wake = room.wake_time(change.participants.values())
    if wake is not None and wake <= change.now:
        wake = change.now + SWEEP_RETRY
    if wake != room.wake_at:
        Room.objects.filter(pk=room.pk).update(wake_at=wake)


def room_tick(*, call_id: int, now=None, seen_version: int | None = None) -> dict | None:
    """Apply whatever is due now, once. Returns the snapshot if it changed.

    A nudge from a browser carries the version it saw. If the room has moved on since (as the cache
    knows it), someone else's nudge was answered already; if another nudge for this version has
    claimed it, it is being answered; a version the room never had answers nothing. Either way this
    one returns at once, without taking the lock (and without a query, unless the cache is behind). Whatever
    still arrives together queues on the row lock, and each re-reads the room before deciding.
    """
    now = now or timezone.now()
    if seen_version is not None:
        head = liveness.version(call_id)
        if head is None or head < seen_version:
            # The cache does not know, or lags behind a commit whose key was written out of order:
            # the row says. A version the room never had is no browser's, and claims nothing.
            head = Room.objects.filter(pk=call_id).values_list("version", flat=True).first()
        if head != seen_version or not liveness.claim_tick(call_id, seen_version):
            return None
    with transaction.atomic():
        try:
            change = work.lock_room(call_id, now)
        except Room.DoesNotExist:
            return None
        if change.room.status == Room.Status.ENDED:
            return None
        applied = apply_due_locked(change)
        if not applied and not change.events:
            rewake_locked(change)
            return None
        last = applied[-1] if applied else states.lookup("presence.leave")
        return actions.commit_locked(change, last, None)


def sweep(*, now=None) -> int:
    """Tick every open room whose wake time has come, or where someone's heartbeats stopped, or
    whose call ended long ago. Returns how many rooms changed.

    Each room is handled on its own: one that fails is logged with its id, counted (the
    `attunement_sweep_failures_total` metric), and its wake time pushed back by SWEEP_RETRY; the rooms
    after it are still swept, and it is tried again then.
    """
    now = now or timezone.now()
    due = Room.objects.exclude(status=Room.Status.ENDED).filter(
        Q(wake_at__lte=now) | Q(call__ends_at__lt=now - AUTO_END_AFTER)
    )
    call_ids = set(due.values_list("pk", flat=True))
    # Whose heartbeats stopped: the rows say when each connected person was last written as seen
    # (arriving or coming back); the cache knows their latest heartbeat.
    silent = Participant.objects.filter(connected=True, last_seen_at__lt=now - PRESENCE_TIMEOUT).exclude(
        room__status=Room.Status.ENDED
    )
    call_ids |= liveness.stale(list(silent.values_list("room_id", "user_id", "last_seen_at")), now)
    call_ids = sorted(call_ids)
    retry_at = {}
    with contextlib.suppress(Exception):  # the cache only spares a failing room; it is never needed
        retry_at = cache.get_many([_sweep_failed_key(call_id) for call_id in call_ids])
    changed = 0
    for call_id in call_ids:
        if now < retry_at.get(_sweep_failed_key(call_id), now):
            continue  # failed a moment ago: wait for its pushed-back wake time
        try:
            if room_tick(call_id=call_id, now=now) is not None:
                changed += 1
        except Exception:
            logger.exception("sweep failed for a room", extra={"call": call_id})
            _sweep_failed(call_id, now)
    return changed


def _sweep_failed_key(call_id: int) -> str:
    return f"sweep-failed:{call_id}"


def _sweep_failed(call_id: int, now: datetime) -> None:
    """Count the failure and push the room's wake time back a little. Each step on its own: a broken
    database must not turn one room's failure into the end of the sweep."""
    retry = now + SWEEP_RETRY
    with contextlib.suppress(Exception):
        version = Room.objects.filter(pk=call_id).values_list("version", flat=True).first()
        RoomEvent.objects.create(room_id=call_id, version=version or 0, kind="sweep.failed", at=now)
    with contextlib.suppress(Exception):
        Room.objects.filter(pk=call_id).update(wake_at=retry)
    with contextlib.suppress(Exception):
        cache.set(_sweep_failed_key(call_id), retry, timeout=60)
