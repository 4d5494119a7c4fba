"""After the call: one tap for "Did you feel heard today?", then, if the member likes, what helped.
Answers are taken until the check-out closes, 48 hours after the call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.models import Call
from groups.permissions import can_view
from journey import services
from journey.models import NOTE_MAX_LENGTH, CheckOut, checkout_closes_at

SCALE = (
    (1, gettext_lazy("Not at all")),
    (2, gettext_lazy("A little")),
    (3, gettext_lazy("Somewhat")),
    (4, gettext_lazy("Mostly")),
    (5, gettext_lazy("Completely")),
)


@login_required
def checkout(request, call_id):
    call = get_object_or_404(Call.objects.select_related("community"), pk=call_id)
    role = services.admitted_role(call=call, user=request.user)
    if not can_view(request.user, call.community) or role is None:
        return render(request, "journey/checkout_closed.html", {"call": call}, status=403)
    existing = services.checkout_of(call=call, user=request.user)
    is_open = services.checkout_is_open(call=call)
    errors = []
    if request.method == "POST":
        details = request.POST.get("details") == "1"
        try:
            services.checkout_submit(
                call=call,
                user=request.user,
                felt_heard=request.POST.get("felt_heard"),
                helped=request.POST.getlist("helped") if details else None,
                note=request.POST.get("note", "") if details else None,
            )
        except ValidationError as error:
            errors = error.messages
            is_open = is_open and getattr(error, "code", None) != "closed"
        else:
            if details:
                messages.success(request, _("Thank you for checking out. Take good care until next time."))
                return redirect("my_journey")
            return redirect(f"{request.path}?answered=1")
    existing = services.checkout_of(call=call, user=request.user) if not errors else existing
    context = {
        "call": call,
        "checkout": existing,
        "open": is_open,
        "closes_at": checkout_closes_at(call),
        # Someone who facilitates may answer for their own journey; their answer is never counted.
        "counted": services.answers_as_member(call=call, user=request.user, role=role),
        "scale": SCALE,
        "helped_choices": CheckOut.Helped.choices,
        "answered": is_open and existing is not None and (request.GET.get("answered") == "1" or bool(errors)),
        "errors": errors,
        "note_max_length": NOTE_MAX_LENGTH,
        "posted": request.POST if errors else None,
    }
    return render(request, "journey/checkout.html", context, status=400 if errors else 200)
