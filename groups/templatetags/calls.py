import zoneinfo

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def call_when(call, with_zone=True):
    """When a call happens, in the viewer's zone, with the call's own zone when it differs."""
    viewer_zone = timezone.get_current_timezone_name()
    local = timezone.localtime(call.starts_at)
    text = formats.date_format(local, "l j F Y, H:i")
    if not with_zone:
        return format_html('<time datetime="{}">{}</time>', call.starts_at.isoformat(), text)
    if call.time_zone != viewer_zone:
        there = timezone.localtime(call.starts_at, zoneinfo.ZoneInfo(call.time_zone))
        # The call's own date too when it is another day there: 02:31 on Thursday in Tokyo is
        # still Wednesday evening in Berlin.
        there_text = formats.date_format(there, "l j F, H:i" if there.date() != local.date() else "H:i")
        return format_html(
            '<time datetime="{}">{}</time> <span class="muted">({})</span>',
            call.starts_at.isoformat(),
            text,
            _("%(time)s in %(zone)s") % {"time": there_text, "zone": call.time_zone},
        )
    return format_html(
        '<time datetime="{}">{}</time> <span class="muted">({})</span>',
        call.starts_at.isoformat(),
        text,
        _("your time, %(zone)s") % {"zone": viewer_zone},
    )


@register.filter
def minutes(value):
    return _("%(n)s min") % {"n": value}


@register.filter
def seconds_label(value):
    value = int(value or 0)
    if value and value % 60 == 0:
        return _("%(n)s min") % {"n": value // 60}
    if value > 60:
        return _("%(m)s min %(s)s s") % {"m": value // 60, "s": value % 60}
    return _("%(n)s s") % {"n": value}


@register.simple_tag
def call_life(call, now):
    """scheduled, open, live, ended or cancelled: see Call.life."""
    return call.life(now or timezone.now())
