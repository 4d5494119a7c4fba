from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import privacy
from accounts.forms import ProfileForm
from accounts.signals import profile_changed
from accounts.themes import THEME_COOKIE, THEMES
from core import ratelimit

# Like failed logins (ACCOUNT_RATE_LIMITS["login_failed"]): 5 password attempts per person in 5 minutes.
DELETE_ATTEMPTS = 5
DELETE_ATTEMPTS_PERIOD = 300


@login_required
def profile(request):
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            form.save()
            profile_changed.send(sender=ProfileForm, user=request.user, changed=set(form.changed_data))
            messages.success(request, _("Your profile is saved."))
            return redirect("profile")
    else:
        form = ProfileForm(instance=request.user)
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def set_theme(request):
    theme = request.POST.get("theme", "")
    if theme not in THEMES:
        return HttpResponse(_("Unknown theme."), status=400, content_type="text/plain; charset=utf-8")
    if request.headers.get("Accept") == "application/json":
        response = HttpResponse(status=204)
    else:
        target = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
        response = redirect(target if safe else "home")
    if request.user.is_authenticated:
        request.user.theme = theme
        request.user.save(update_fields=["theme"])
    response.set_cookie(
        THEME_COOKIE,
        theme,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response


@login_required
@require_POST
def calendar_address(request):
    """Create or replace the secret calendar-feed address, or turn it off."""
    if request.POST.get("action") == "off":
        request.user.calendar_token = None
        request.user.save(update_fields=["calendar_token"])
        messages.success(request, _("Your calendar address is turned off."))
    else:
        request.user.reset_calendar_token()
        messages.success(request, _("Your new calendar address is ready. Any old address no longer works."))
    return redirect("profile")


@login_required
def my_data(request):
    """Download everything we hold, or ask for the account to be deleted."""
    return render(request, "accounts/my_data.html", {"grace_days": privacy.GRACE.days})


@login_required
def export_data(request):
    response = JsonResponse(privacy.export(request.user), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = 'attachment; filename="attunement-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def delete_account(request):
    if not ratelimit.allow(f"delete-account:{request.user.pk}", limit=DELETE_ATTEMPTS, period=DELETE_ATTEMPTS_PERIOD):
        messages.error(
            request,
            _("You have tried several times. Please wait a few minutes, then try again. Your account is unchanged."),
        )
        return redirect("my_data")
    if not request.user.check_password(request.POST.get("password", "")):
        messages.error(request, _("That password is not right. Your account is unchanged."))
        return redirect("my_data")
    privacy.request_deletion(user=request.user)
    deadline = timezone.localtime(request.user.deletion_requested_at + privacy.GRACE)
    logout(request)
    messages.success(
        request,
        _("Your account will be deleted on %(date)s. If you change your mind, log in before then.")
        % {"date": date_format(deadline, "j F Y, H:i")},
    )
    return redirect("home")
