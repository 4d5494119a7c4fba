"""My journey: the calls someone attended, their own check-outs and their practice notes.

Everything here is the signed-in person's own; another person's note or practice is "not found".
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from groups.models import Call
from journey import services
from journey.models import CheckOut, Practice
from journey.practice import STEP_COUNT, step

SHOWN = 50  # the most recent rows of each kind; older ones stay in the data export


def _recent(queryset):
    """The newest SHOWN rows, and whether there are more."""
    rows = list(queryset[: SHOWN + 1])
    return rows[:SHOWN], len(rows) > SHOWN


def journey_of(user) -> dict:
    """Four queries, however many rows there are."""
    calls, more_calls = _recent(
        Call.objects.filter(room__participants__user=user, room__participants__admitted_at__isnull=False)
        .select_related("community")
        .order_by("-starts_at", "-pk")
    )
    checkouts, more_checkouts = _recent(
        CheckOut.objects.filter(user=user).select_related("call__community").order_by("-answered_at", "-pk")
    )
    helped_labels = dict(CheckOut.Helped.choices)
    for checkout in checkouts:
        checkout.helped_labels = [helped_labels[value] for value in checkout.helped if value in helped_labels]
    practices, more_practices = _recent(
        Practice.objects.filter(user=user)
        .select_related("call")
        .prefetch_related("notes")
        .order_by("-started_at", "-pk")
    )
    for practice in practices:
        practice.shown_notes = [
            (note, step(note.step)) for note in practice.notes.all() if 1 <= note.step <= STEP_COUNT
        ]
    return {
        "calls": calls,
        "more_calls": more_calls,
        "checkouts": checkouts,
        "more_checkouts": more_checkouts,
        "practices": practices,
        "more_practices": more_practices,
        "shown": SHOWN,
    }


@login_required
@require_GET
def my_journey(request):
    return render(request, "journey/my_journey.html", journey_of(request.user))


def _back_to_notes():
    return redirect(reverse("my_journey") + "#practice-title")


@login_required
@require_POST
def note_delete(request, pk):
    try:
        services.note_delete(user=request.user, pk=pk)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("The note is deleted."))
    return _back_to_notes()


@login_required
@require_POST
def practice_delete(request, pk):
    try:
        services.practice_delete(user=request.user, pk=pk)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, _("The practice and its notes are deleted."))
    return _back_to_notes()
