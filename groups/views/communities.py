from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from groups import permissions, selectors
from groups.access import community_for
from groups.forms import AcceptAgreementsForm, AgreementsForm, CommunityForm, JoinForm, apply_errors
from groups.services import communities as services
from groups.services.errors import stale_edit


def directory(request):
    return render(request, "groups/directory.html", {"communities": selectors.directory(user=request.user)})


@login_required
def community_create(request):
    form = CommunityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            community = services.community_create(
                owner=request.user,
                agreements=form.cleaned_data["agreements"],
                **{key: form.cleaned_data[key] for key in CommunityForm.Meta.fields},
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Your community is ready. Next, schedule its first call."))
            return redirect("community", slug=community.slug)
    return render(request, "groups/community_form.html", {"form": form, "creating": True})


def community_detail(request, slug):
    community = community_for(request, slug)
    membership = permissions.membership_of(request.user, community)
    context = {
        "community": community,
        "membership": membership,
        "can_facilitate": permissions.can_facilitate(request.user, community),
        "can_own": permissions.can_own(request.user, community),
        "can_see_calls": permissions.can_see_calls(request.user, community),
        "join_form": JoinForm(),
        **selectors.community_page(community=community, user=request.user),
    }
    return render(request, "groups/community.html", context)


@login_required
def community_edit(request, slug):
    community = community_for(request, slug, own=True)
    form = CommunityForm(request.POST or None, instance=community, creating=False)
    if request.method == "POST" and form.is_valid():
        services.community_update(
            community=community,
            actor=request.user,
            **{key: form.cleaned_data[key] for key in CommunityForm.Meta.fields if key in form.fields},
        )
        messages.success(request, _("Saved."))
        return redirect("community", slug=community.slug)
    return render(request, "groups/community_form.html", {"form": form, "community": community, "creating": False})


@login_required
@require_POST
def join(request, slug):
    community = community_for(request, slug)
    form = JoinForm(request.POST)
    answer = form.cleaned_data["answer"] if form.is_valid() else ""
    try:
        membership = services.membership_join(community=community, user=request.user, answer=answer)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("community", slug=slug)
    if membership.is_active:
        messages.success(request, _("Welcome. Please read the group agreements before your first call."))
        return redirect("agreements", slug=slug)
    messages.success(request, _("Thank you. A facilitator will look at your request soon; we will email you."))
    return redirect("community", slug=slug)


@login_required
@require_POST
def leave(request, slug):
    community = community_for(request, slug)
    try:
        services.membership_leave(community=community, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("You have left %(name)s. Your RSVPs to its calls are cancelled.") % {"name": community.name},
        )
    return redirect("community", slug=slug)


def _safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@login_required
def agreements(request, slug):
    """Read the agreements and, as a member, accept them."""
    community = community_for(request, slug)
    membership = permissions.membership_of(request.user, community)
    agreement = services.agreements_current(community)
    form = AcceptAgreementsForm(request.POST or None, initial={"version": agreement.version})
    if request.method == "POST":
        if membership is None or not membership.is_active:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.agreements_accept(community=community, user=request.user, version=form.cleaned_data["version"])
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect(request.get_full_path())
            else:
                messages.success(request, _("Thank you. You are ready to join calls."))
                return redirect(_safe_next(request, community.get_absolute_url()))
    accepted = membership is not None and membership.has_accepted(community.agreements_version)
    return render(
        request,
        "groups/agreements.html",
        {
            "community": community,
            "agreement": agreement,
            "form": form,
            "membership": membership,
            "accepted": accepted,
            "next": _safe_next(request, ""),
        },
    )


@login_required
def agreements_edit(request, slug):
    community = community_for(request, slug, facilitate=True)
    current = services.agreements_current(community)
    form = AgreementsForm(request.POST or None, initial={"text": current.text, "version": current.version})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["version"] != community.agreements_version:
            form = AgreementsForm({"text": current.text, "version": current.version}, initial={"text": current.text})
            form.is_valid()
            form.add_error(None, stale_edit())
        else:
            agreement = services.agreements_publish(
                community=community, actor=request.user, text=form.cleaned_data["text"]
            )
            if agreement.version != current.version:
                messages.success(
                    request,
                    _("The new agreements are published. Members will accept them before their next call."),
                )
            return redirect("agreements", slug=slug)
    return render(request, "groups/agreements_form.html", {"community": community, "form": form})
