from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from groups import localtime, permissions, selectors
from groups.access import call_for, community_for
from groups.forms import CallForm, CancelForm, SeriesForm, apply_errors
from groups.models import Call, Series
from groups.recurrence import Recurrence
from groups.services import scheduling as services
from groups.services.errors import is_stale


def _tell_local_times(request, series: Series) -> None:
    for note in localtime.series_notes_ahead(Recurrence.of(series), today=timezone.localdate()):
        messages.info(request, note)


def _tell_if_doubled(request, call: Call) -> None:
    local = call.local_start()
    if local.fold == 0 and localtime.is_ambiguous(local.date(), local.time(), call.time_zone):
        messages.info(request, localtime.ambiguous_note(local.date(), local.time(), call.time_zone))


def series_detail(request, pk):
    series = get_object_or_404(
        Series.objects.select_related("community", "format", "facilitator", "co_facilitator"), pk=pk
    )
    community = community_for(request, series.community.slug)
    context = selectors.series_page(series=series, user=request.user)
    now = timezone.now()
    upcoming = [call for call in context["calls"] if call.status == Call.Status.SCHEDULED and call.starts_at > now]
    context.update(
        {
            "community": community,
            "schedule": Recurrence.of(series).in_words(),
            "can_facilitate": permissions.can_facilitate(request.user, community),
            "next_call": upcoming[0] if upcoming else None,
            "now": now,
        }
    )
    return render(request, "groups/series.html", context)


@login_required
def series_create(request, slug):
    community = community_for(request, slug, facilitate=True)
    form = SeriesForm(
        request.POST or None, community=community, initial=SeriesForm.initial_new(request.user, community)
    )
    if request.method == "POST" and form.is_valid():
        try:
            series = services.series_create(
                community=community, actor=request.user, details=form.details(), recurrence=form.recurrence()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The series is scheduled. Its calls are listed below."))
            _tell_local_times(request, series)
            return redirect("series", pk=series.pk)
    return render(request, "groups/series_form.html", {"community": community, "form": form, "creating": True})


@login_required
def series_edit(request, pk):
    series = get_object_or_404(Series.objects.select_related("community"), pk=pk)
    community = community_for(request, series.community.slug, facilitate=True)
    from_call = None
    if request.GET.get("from"):
        if not request.GET["from"].isdecimal():
            raise Http404
        from_call = get_object_or_404(Call, series=series, pk=int(request.GET["from"]))
    form = SeriesForm(
        request.POST or None, community=community, initial=SeriesForm.initial_for(series, from_call), creating=False
    )
    if request.method == "POST" and form.is_valid():
        try:
            target = services.series_update(
                series=series,
                actor=request.user,
                expected_version=form.cleaned_data.get("version") or 0,
                details=form.details(),
                recurrence=form.recurrence(),
                from_call=from_call,
            )
        except ValidationError as error:
            if is_stale(error):
                series.refresh_from_db()
                form = SeriesForm(SeriesForm.initial_for(series, from_call), community=community, creating=False)
                form.is_valid()
            apply_errors(form, error)
        else:
            messages.success(request, _("The series is changed. People who RSVP'd will be told."))
            _tell_local_times(request, target)
            return redirect("series", pk=target.pk)
    return render(
        request,
        "groups/series_form.html",
        {"community": community, "form": form, "series": series, "from_call": from_call, "creating": False},
    )


@login_required
def call_create(request, slug):
    community = community_for(request, slug, facilitate=True)
    initial = {"time_zone": request.user.time_zone, "facilitator": request.user.pk, "title": community.name}
    form = CallForm(request.POST or None, community=community, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            call = services.call_create(
                community=community,
                actor=request.user,
                details=form.details(),
                day=form.cleaned_data["day"],
                at=form.cleaned_data["at"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The call is scheduled."))
            _tell_if_doubled(request, call)
            return redirect("call", call_id=call.pk)
    return render(request, "groups/call_form.html", {"community": community, "form": form, "creating": True})


@login_required
def call_edit(request, call_id):
    call = call_for(request, call_id, facilitate=True)
    form = CallForm(request.POST or None, community=call.community, initial=CallForm.initial_for(call), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            call = services.call_update(
                call=call,
                actor=request.user,
                expected_version=form.cleaned_data.get("version") or 0,
                details=form.details(),
                day=form.cleaned_data["day"],
                at=form.cleaned_data["at"],
            )
        except ValidationError as error:
            if is_stale(error):
                call.refresh_from_db()
                form = CallForm(CallForm.initial_for(call), community=call.community, editing=True)
                form.is_valid()
            apply_errors(form, error)
        else:
            messages.success(request, _("The call is changed. People who RSVP'd will be told."))
            _tell_if_doubled(request, call)
            return redirect("call", call_id=call.pk)
    return render(
        request,
        "groups/call_form.html",
        {"community": call.community, "form": form, "call": call, "creating": False},
    )


@login_required
def call_cancel(request, call_id):
    call = call_for(request, call_id, facilitate=True)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.call_cancel(
                call=call, actor=request.user, following=form.cleaned_data["scope"] == "following"
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                _("Cancelled %(count)s call(s). People who RSVP'd will be told.") % {"count": len(cancelled)},
            )
            return redirect("call", call_id=call.pk)
    return render(request, "groups/call_cancel.html", {"call": call, "form": form})
