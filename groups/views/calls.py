from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from groups import permissions, selectors
from groups.access import call_for, sign_in_first, wants_fragment
from groups.services.rsvps import AgreementsNeeded, rsvp_set


def _call_context(request, call_id):
    context = selectors.call_page(call_id=call_id, user=request.user)
    call = context["call"]
    community = call.community
    membership = permissions.membership_of(request.user, community)
    now = timezone.now()
    context.update(
        {
            "community": community,
            "membership": membership,
            "can_facilitate": permissions.can_facilitate(request.user, community),
            "facilitating": request.user.is_authenticated and call.is_facilitated_by(request.user),
            "needs_agreements": membership is not None
            and membership.is_active
            and not membership.has_accepted(community.agreements_version),
            "now": now,
            "life": call.life(now),
            "rsvp_open": call.rsvp_open(now),
            "join_open": call.join_open(now),
            "seats_left": max(call.capacity - call.going_count, 0),
        }
    )
    if context["can_facilitate"]:
        context["attendees"] = selectors.call_attendees(call)
        context["deliveries"] = selectors.deliveries_for_call(call, now=now)
    return context


@sign_in_first
def call_detail(request, call_id):
    call_for(request, call_id)
    return render(request, "groups/call.html", _call_context(request, call_id))


@login_required
@require_POST
def rsvp(request, call_id):
    call = call_for(request, call_id)
    going = request.POST.get("going") == "yes"
    try:
        rsvp_set(call_id=call.pk, user=request.user, going=going)
    except AgreementsNeeded:
        target = reverse("agreements", kwargs={"slug": call.community.slug})
        next_url = reverse("call", kwargs={"call_id": call.pk})
        return redirect(f"{target}?{urlencode({'next': next_url})}")
    except PermissionDenied:
        raise
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    context = _call_context(request, call.pk)
    if wants_fragment(request, "rsvp"):
        return render(request, "groups/_rsvp_panel.html", context)
    return redirect("call", call_id=call.pk)


@login_required
def my_calls(request):
    return render(request, "groups/my_calls.html", selectors.my_calls(user=request.user))
