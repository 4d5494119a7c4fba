"""A community's insights for its facilitators: attendance, show-up, felt-heard and time, as
charts with tables beside them, and the same numbers as CSV. Both come from one
journey.insights.community_insights, so the page and the CSV can never disagree."""

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _

from groups.access import community_for
from journey import charts, insights
from journey.insights import DEFAULT_PERIOD, PERIODS
from journey.models import MIN_ANSWERS


def _period(request) -> int:
    try:
        months = int(request.GET.get("months", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return months if months in PERIODS else DEFAULT_PERIOD


def _charts(data: insights.Insights) -> list:
    if not data.calls:
        return []
    labels = [formats.date_format(call.starts_at, "j M") for call in data.calls]
    attendance = charts.bars(
        _("Attendance per call"),
        _("Filled bars: members who came. Outlines: members who RSVP'd."),
        labels,
        [call.attended for call in data.calls],
        outline_values=[call.going for call in data.calls],
        value_label=lambda label, value: _("%(date)s: %(count)d came") % {"date": label, "count": value},
        outline_label=lambda label, value: _("%(date)s: %(count)d RSVP'd") % {"date": label, "count": value},
    )
    show_up = charts.line(
        _("Show-up rate"),
        _("Of the people who RSVP'd, the share who came."),
        labels,
        [None if call.show_up_rate is None else round(call.show_up_rate * 100) for call in data.calls],
        low=0,
        high=100,
        tick_values=[0, 25, 50, 75, 100],
        tick_label=lambda value: f"{value}%",
        point_label=lambda label, value: f"{label}: {value}%",
    )
    felt_heard = charts.line(
        _("Felt heard"),
        _(
            "The members' average answer to “Did you feel heard today?”, 1 to 5, for calls where at least "
            "%(n)d members answered. A call's answers appear 48 hours after it."
        )
        % {"n": MIN_ANSWERS},
        labels,
        [call.felt_heard for call in data.calls],
        low=1,
        high=5,
        tick_values=[1, 2, 3, 4, 5],
        tick_label=str,
        point_label=lambda label, value: f"{label}: {value:.1f}",
    )
    return [("attendance", attendance), ("show-up", show_up), ("felt-heard", felt_heard)]


@login_required
def community_insights(request, slug):
    community = community_for(request, slug, facilitate=True)
    months = _period(request)
    data = insights.community_insights(community=community, months=months)
    context = {
        "community": community,
        "data": data,
        "charts": _charts(data),
        "months": months,
        "periods": list(PERIODS),
        "min_answers": MIN_ANSWERS,
    }
    return render(request, "journey/insights.html", context)


@login_required
def community_insights_csv(request, slug):
    community = community_for(request, slug, facilitate=True)
    data = insights.community_insights(community=community, months=_period(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{community.slug}-insights.csv"'
    writer = csv.writer(response)
    for row in insights.csv_rows(data):
        writer.writerow([_safe_cell(cell) for cell in row])
    return response


def _safe_cell(value):
    """A call title starting with =, +, - or @ would run as a formula in a spreadsheet."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value
