"""The guided self-attunement practice: an intro, five steps one screen at a time, and a close.

Someone else's practice is "not found", never "forbidden": nobody learns that it exists.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from groups import permissions
from groups.models import Call
from journey import services
from journey.models import NOTE_MAX_LENGTH, PracticeNote
from journey.practice import STEP_COUNT, STEPS, step


def _call_to_link(user, raw) -> Call | None:
    """The call a practice is for, if the person may attend it; anything else is quietly ignored."""
    try:
        call_id = int(raw)
    except (TypeError, ValueError):
        return None
    call = Call.objects.select_related("community").filter(pk=call_id).first()
    if call is None or call.status == Call.Status.CANCELLED:
        return None
    if not permissions.is_member(user, call.community):
        return None
    return call


def _own_practice(request, pk):
    try:
        return services.practice_for(user=request.user, pk=pk)
    except PermissionDenied:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def practice(request):
    call = _call_to_link(request.user, request.POST.get("call") or request.GET.get("call"))
    if request.method == "POST":
        started = services.practice_start(user=request.user, call=call)
        return redirect("practice_step", pk=started.pk, number=1)
    return render(request, "journey/practice_start.html", {"call": call, "steps": STEPS})


@login_required
@require_http_methods(["GET", "POST"])
def practice_step(request, pk, number):
    practice = _own_practice(request, pk)
    if not 1 <= number <= STEP_COUNT:
        raise Http404
    existing = PracticeNote.objects.filter(practice=practice, step=number).first()
    text = existing.text if existing else ""
    error = None
    if request.method == "POST":
        text = request.POST.get("note", "")
        direction = request.POST.get("direction", "next")
        try:
            if request.POST.get("step") != str(number):
                raise ValidationError(
                    _("This note was written on a different step. Please check it and save it again."), code="step"
                )
            services.practice_note(practice=practice, step=number, text=text)
        except ValidationError as invalid:
            error = " ".join(invalid.messages)
        else:
            if direction == "back" and number > 1:
                return redirect("practice_step", pk=practice.pk, number=number - 1)
            if direction == "skip" or number == STEP_COUNT:
                services.practice_finish(practice=practice)
                return redirect("practice_done", pk=practice.pk)
            return redirect("practice_step", pk=practice.pk, number=number + 1)
    context = {
        "practice": practice,
        "step": step(number),
        "step_count": STEP_COUNT,
        "is_first": number == 1,
        "is_last": number == STEP_COUNT,
        "text": text,
        "error": error,
        "note_max_length": NOTE_MAX_LENGTH,
    }
    return render(request, "journey/practice_step.html", context)


@login_required
@require_GET
def practice_done(request, pk):
    practice = _own_practice(request, pk)
    call = practice.call
    if call is not None and not permissions.is_member(request.user, call.community):
        call = None  # they have left the community since: no way back into that room
    return render(request, "journey/practice_done.html", {"practice": practice, "call": call})
