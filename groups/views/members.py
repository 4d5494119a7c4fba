from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from groups import permissions, selectors
from groups.access import community_for, wants_fragment
from groups.forms import InviteForm, RoleForm, apply_errors
from groups.models import Invite, Membership
from groups.services import communities as services


@login_required
def members(request, slug):
    community = community_for(request, slug, facilitate=True)
    context = {
        "community": community,
        "can_own": permissions.can_own(request.user, community),
        "roles": Membership.Role.choices,
        **selectors.members_page(community=community),
    }
    return render(request, "groups/members.html", context)


def _membership(community, pk):
    return get_object_or_404(Membership.objects.select_related("user", "community"), community=community, pk=pk)


def _decided(request, community, membership, message):
    """After approving or declining: the updated row for a script, or the page for everyone else."""
    if wants_fragment(request, "membership"):
        return render(
            request,
            "groups/_membership_decided.html",
            {"membership": membership, "message": message, "community": community},
        )
    messages.success(request, message)
    return redirect("members", slug=community.slug)


@login_required
@require_POST
def approve(request, slug, pk):
    community = community_for(request, slug, facilitate=True)
    membership = services.membership_approve(membership=_membership(community, pk), actor=request.user)
    return _decided(
        request,
        community,
        membership,
        _("%(name)s is now a member.") % {"name": membership.user.display_name},
    )


@login_required
@require_POST
def decline(request, slug, pk):
    community = community_for(request, slug, facilitate=True)
    membership = _membership(community, pk)
    services.membership_decline(membership=membership, actor=request.user)
    return _decided(
        request,
        community,
        membership,
        _("The request from %(name)s was declined.") % {"name": membership.user.display_name},
    )


@login_required
@require_POST
def remove(request, slug, pk):
    community = community_for(request, slug, facilitate=True)
    membership = _membership(community, pk)
    try:
        services.membership_remove(membership=membership, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is no longer a member.") % {"name": membership.user.display_name})
    return redirect("members", slug=slug)


@login_required
@require_POST
def set_role(request, slug, pk):
    community = community_for(request, slug, own=True)
    membership = _membership(community, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            _("Choose owner, facilitator or member."), status=400, content_type="text/plain; charset=utf-8"
        )
    try:
        services.membership_set_role(membership=membership, actor=request.user, role=form.cleaned_data["role"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s is now: %(role)s.")
            % {"name": membership.user.display_name, "role": membership.get_role_display()},
        )
    return redirect("members", slug=slug)


@login_required
def invites(request, slug):
    community = community_for(request, slug, facilitate=True)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invite = services.invite_create(community=community, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Your invite link is ready. Copy it from the list below."))
            return redirect(f"{request.path}#invite-{invite.pk}")
    now = timezone.now()
    invite_list = selectors.invites_of(community)
    for invite in invite_list:
        invite.usable = invite.is_usable(now)
    return render(request, "groups/invites.html", {"community": community, "form": form, "invites": invite_list})


@login_required
@require_POST
def invite_revoke(request, slug, pk):
    community = community_for(request, slug, facilitate=True)
    invite = get_object_or_404(Invite, community=community, pk=pk)
    services.invite_revoke(invite=invite, actor=request.user)
    messages.success(request, _("The invite link no longer works."))
    return redirect("invites", slug=slug)


@login_required
def invite_accept(request, token):
    invite = Invite.objects.select_related("community").filter(token=token).first()
    usable = invite is not None and invite.is_usable(timezone.now())
    if usable and permissions.is_banned(request.user, invite.community):
        raise PermissionDenied
    if request.method == "POST" and usable:
        try:
            services.invite_accept(token=token, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Welcome. Please read the group agreements before your first call."))
            return redirect("agreements", slug=invite.community.slug)
    status = 200 if usable else 410
    return render(request, "groups/invite_accept.html", {"invite": invite, "usable": usable}, status=status)
