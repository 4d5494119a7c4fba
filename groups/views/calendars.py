from django.http import Http404, HttpResponse
from django.utils.text import slugify

from accounts.models import User
from groups import calendar, selectors
from groups.access import call_for, series_for, sign_in_first
from groups.models import Call


def _ics(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.ics"'
    response["Cache-Control"] = "private, no-cache"
    return response


@sign_in_first
def call_ics(request, call_id):
    call = call_for(request, call_id)
    call = Call.objects.select_related("format", "community").get(pk=call.pk)
    return _ics(calendar.calls_calendar([call], name=call.title), slugify(call.title) or "call")


@sign_in_first
def series_ics(request, pk):
    series = series_for(request, pk)
    calls = Call.objects.filter(series=series).select_related("format", "community")
    return _ics(calendar.series_calendar(series, calls), slugify(series.title) or "series")


def feed(request, token):
    """A person's private subscription: every call they RSVP'd to or facilitate."""
    user = User.objects.filter(calendar_token=token, is_active=True).first() if token else None
    if user is None:
        raise Http404
    calls = selectors.calendar_feed_calls(user=user)
    return _ics(calendar.calls_calendar(calls, name="Attunement"), "attunement")
