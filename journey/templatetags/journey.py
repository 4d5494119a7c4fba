from django import template

from journey.selectors import checkouts_open

register = template.Library()


@register.simple_tag(takes_context=True)
def open_checkouts(context, calls):
    """The ids of the calls in `calls` the viewer may still check out of, in one query or two."""
    if hasattr(calls, "pk"):
        calls = [calls]
    return checkouts_open(user=context["user"], calls=calls, now=context.get("now"))
