"""Writing practice notes and check-outs. Views call these; each either changes everything it
means to or raises ValidationError/PermissionDenied and changes nothing."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import Call
from journey.models import NOTE_MAX_LENGTH, CheckOut, Practice, PracticeNote
from journey.practice import STEP_COUNT
from sharing.models import Participant


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


def attended(*, call: Call, user) -> bool:
    """Whether the person was admitted to the call's room."""
    return Participant.objects.filter(room__call=call, user=user, admitted_at__isnull=False).exists()


def can_check_out(*, call: Call, user) -> bool:
    return user.is_authenticated and attended(call=call, user=user)


@transaction.atomic
def checkout_submit(*, call: Call, user, felt_heard, helped=None, note: str | None = None) -> CheckOut:
    """Record (or change) how the call felt. Only people who were in the call may answer.

    The one tap sends only `felt_heard`; `helped` and `note` left as None keep what was there."""
    if not can_check_out(call=call, user=user):
        raise PermissionDenied
    try:
        felt_heard = int(felt_heard)
    except (TypeError, ValueError):
        felt_heard = 0
    if not 1 <= felt_heard <= 5:
        raise ValidationError(_("Please choose a number from 1 to 5."), code="felt_heard")
    values = {"felt_heard": felt_heard, "answered_at": timezone.now()}
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
