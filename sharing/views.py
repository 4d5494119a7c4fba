from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _


@login_required
def room(request, call_id):
    """The live room arrives with the live-room work; until then people are sent back to the call."""
    messages.info(request, _("The live room is not open yet."))
    return redirect("call", call_id=call_id)
