from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from groups.models import Call
from groups.permissions import can_see_calls, can_view
from sharing.access import check_entry
from sharing.errors import RoomError
from sharing.models import CHECKIN_EMOJI


@login_required
def room(request, call_id):
    """The live room's page. The socket decides everything that happens in it; this page only
    explains, before connecting, why someone cannot come in yet."""
    call = get_object_or_404(Call.objects.select_related("community", "format"), pk=call_id)
    if call.community.is_private and not can_see_calls(request.user, call.community):
        raise Http404  # a private community's calls are not shown to anyone outside it
    if not can_view(request.user, call.community):
        return render(request, "sharing/room_closed.html", {"call": call, "reason": "forbidden"}, status=403)
    try:
        check_entry(call=call, user=request.user, now=timezone.now())
    except RoomError as error:
        status = 403 if error.code in {"forbidden", "not_rsvped"} else 200
        return render(request, "sharing/room_closed.html", {"call": call, "reason": error.code}, status=status)
    context = {
        "call": call,
        "checkin_emoji": CHECKIN_EMOJI.items(),
        "is_call_facilitator": call.is_facilitated_by(request.user) or request.user.is_staff,
        "ice_servers_url": getattr(settings, "ICE_SERVERS_URL", ""),
    }
    return render(request, "sharing/room.html", context)
