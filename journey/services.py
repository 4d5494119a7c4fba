"""Writing practice notes and check-outs. Views call these; each either changes everything it
means to or raises ValidationError/PermissionDenied and changes nothing."""

from __future__ import annotations

from collections import Counter, defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from groups import permissions
from groups.models import Call
from journey.models import (
    CHECKOUT_OPEN_FOR,
    MIN_ANSWERS,
    NOTE_MAX_LENGTH,
    CheckOut,
    CheckOutTally,
    Practice,
    PracticeNote,
    checkout_closes_at,
)
from journey.practice import STEP_COUNT
from sharing import selectors as rooms


def _clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            _("Please keep a note under %(count)d characters.") % {"count": NOTE_MAX_LENGTH}, code="too_long"
        )
    return text


# Practice ------------------------------------------------------------------------------------


def practice_start(*, user, call: Call | None = None) -> Practice:
    return Practice.objects.create(user=user, call=call)


def practice_for(*, user, pk: int) -> Practice:
    """The member's own practice; anyone else's is not found."""
    practice = Practice.objects.filter(user=user, pk=pk).first()
    if practice is None:
        raise PermissionDenied
    return practice


@transaction.atomic
def practice_note(*, practice: Practice, step: int, text: str | None) -> PracticeNote | None:
    """Save, replace or (with empty text) remove the note at one step."""
    if not 1 <= step <= STEP_COUNT:
        raise ValidationError(_("That step does not exist."), code="step")
    text = _clean_text(text)
    if not text:
        PracticeNote.objects.filter(practice=practice, step=step).delete()
        return None
    note, _created = PracticeNote.objects.update_or_create(
        practice=practice, step=step, defaults={"text": text, "written_at": timezone.now()}
    )
    return note


def practice_finish(*, practice: Practice) -> Practice:
    if practice.finished_at is None:
        practice.finished_at = timezone.now()
        practice.save(update_fields=["finished_at"])
    return practice


def note_delete(*, user, pk: int) -> None:
    deleted, _rows = PracticeNote.objects.filter(practice__user=user, pk=pk).delete()
    if not deleted:
        raise PermissionDenied


def practice_delete(*, user, pk: int) -> None:
    deleted, _rows = Practice.objects.filter(user=user, pk=pk).delete()
    if not deleted:
        raise PermissionDenied


# Check-out -----------------------------------------------------------------------------------


def admitted_role(*, call: Call, user) -> str | None:
    """The person's role in the call's room if they were admitted to it, else None."""
    return rooms.admitted_role(call_id=call.pk, user=user)


def attended(*, call: Call, user) -> bool:
    """Whether the person was admitted to the call's room."""
    return admitted_role(call=call, user=user) is not None


def can_check_out(*, call: Call, user) -> bool:
    return user.is_authenticated and attended(call=call, user=user)


def answers_as_member(*, call: Call, user, role: str | None) -> bool:
    """Whether this person's answer may count: they were in the call as a member, and they neither
    held this call nor facilitate the community (so they never see the insights their answer is in)."""
    return (
        role == rooms.MEMBER_ROLE
        and user.pk not in {call.facilitator_id, call.co_facilitator_id}
        and not permissions.can_facilitate(user, call.community)
    )


def checkout_is_open(*, call: Call, now=None) -> bool:
    return (now or timezone.now()) < checkout_closes_at(call)


def _closed_error(call: Call) -> ValidationError:
    closed = timezone.localtime(checkout_closes_at(call))
    return ValidationError(
        _("Check-out for this call closed on %(date)s, 48 hours after the call. Your answer was not saved.")
        % {"date": date_format(closed, "DATETIME_FORMAT")},
        code="closed",
    )


@transaction.atomic
def checkout_submit(*, call: Call, user, felt_heard, helped=None, note: str | None = None, now=None) -> CheckOut:
    """Record (or change) how the call felt. Only people who were in the call may answer, and only
    until the check-out closes, 48 hours after the call.

    The call's row is locked first, as checkouts_tally does, so an answer given at the closing
    moment is either in the tally or refused: never saved after it.
    The one tap sends only `felt_heard`; `helped` and `note` left as None keep what was there."""
    role = admitted_role(call=call, user=user) if user.is_authenticated else None
    if role is None:
        raise PermissionDenied
    ends_at = Call.objects.select_for_update().filter(pk=call.pk).values_list("ends_at", flat=True).first()
    if ends_at is None:
        raise PermissionDenied
    call.ends_at = ends_at
    now = now or timezone.now()
    if not checkout_is_open(call=call, now=now) or CheckOutTally.objects.filter(call=call).exists():
        raise _closed_error(call)
    try:
        felt_heard = int(felt_heard)
    except (TypeError, ValueError):
        felt_heard = 0
    if not 1 <= felt_heard <= 5:
        raise ValidationError(_("Please choose a number from 1 to 5."), code="felt_heard")
    values = {
        "felt_heard": felt_heard,
        "answered_at": now,
        "as_member": answers_as_member(call=call, user=user, role=role),
    }
    if helped is not None:
        chosen = set(helped)
        if not chosen <= set(CheckOut.Helped.values):
            raise ValidationError(_("Please choose from the options shown."), code="helped")
        values["helped"] = [choice for choice in CheckOut.Helped.values if choice in chosen]
    if note is not None:
        values["note"] = _clean_text(note)
    checkout, _created = CheckOut.objects.update_or_create(call=call, user=user, defaults=values)
    return checkout


def checkout_of(*, call: Call, user) -> CheckOut | None:
    if not user.is_authenticated:
        return None
    return CheckOut.objects.filter(call=call, user=user).first()


def tally(answers) -> CheckOutTally:
    """The tally of one call from its members' answers, as (felt_heard, helped) pairs: published
    only with at least MIN_ANSWERS of them, and otherwise without any number."""
    answers = list(answers)
    if len(answers) < MIN_ANSWERS:
        return CheckOutTally(published=False)
    helped = Counter()
    for _felt_heard, choices in answers:
        helped.update(set(choices or ()))
    return CheckOutTally(
        published=True,
        answers=len(answers),
        felt_heard_total=sum(felt_heard for felt_heard, _choices in answers),
        helped={value: helped[value] for value in CheckOut.Helped.values if helped[value]},
    )


@transaction.atomic
def checkouts_tally(*, call_ids, now=None) -> dict[int, CheckOutTally]:
    """Tally, once, the check-outs of those calls among `call_ids` that have closed and have no
    tally yet; return the new tallies by call id. Whoever first notices that a check-out has closed
    (the insights page, the demo) calls this: the result is the same whenever it runs, because no
    answer can be given or changed after the close.

    A fixed number of queries however many calls are due: lock them (in id order), read their
    answers, write the tallies. A tally written meanwhile by someone else is kept, not replaced."""
    now = now or timezone.now()
    due = dict(
        Call.objects.select_for_update()
        .filter(pk__in=list(call_ids), ends_at__lte=now - CHECKOUT_OPEN_FOR)
        .filter(~Exists(CheckOutTally.objects.filter(call_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "ends_at")
    )
    if not due:
        return {}
    answers = defaultdict(list)
    rows = CheckOut.objects.filter(call_id__in=list(due), as_member=True).values_list(
        "call_id", "answered_at", "felt_heard", "helped"
    )
    for call_id, answered_at, felt_heard, helped in rows:
        # Answers saved after the close (possible only before the close was enforced) never count.
        if answered_at < due[call_id] + CHECKOUT_OPEN_FOR:
            answers[call_id].append((felt_heard, helped))
    tallies = {}
    for call_id in due:
        tallies[call_id] = tally(answers[call_id])
        tallies[call_id].call_id = call_id
        tallies[call_id].tallied_at = now
    CheckOutTally.objects.bulk_create(tallies.values(), ignore_conflicts=True)
    return tallies
