from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.models import User
from groups import permissions
from groups.access import community_for
from groups.forms import apply_errors
from groups.models import Call, Community, Membership
from moderation import selectors, services
from moderation.forms import OUTCOME_HELP, ReportForm, ResolveForm
from moderation.models import Report


def _optional(model, **lookup):
    value = next(iter(lookup.values()))
    if not value:
        return None
    try:
        return model.objects.filter(**lookup).first()
    except (ValueError, TypeError):
        return None


@login_required
def report(request):
    """Report a concern about a person, from the room, a community page or their profile."""
    source = request.POST if request.method == "POST" else request.GET
    community = _optional(Community, slug=source.get("community"))
    call = _optional(Call, pk=source.get("call"))
    if call is not None:
        community = call.community
    people = selectors.people_to_report(reporter=request.user, community=community, call=call)
    initial = {"subject": source.get("subject")}
    form = ReportForm(request.POST or None, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        subject = next(person for person in people if person.pk == form.cleaned_data["subject"])
        try:
            services.report_create(
                reporter=request.user,
                subject=subject,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                community=community,
                call=call,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return render(request, "moderation/report_sent.html", {"community": community})
    return render(request, "moderation/report_form.html", {"form": form, "community": community, "call": call})


@login_required
def queue(request, slug=None):
    community = community_for(request, slug, facilitate=True) if slug else None
    if community is None and not request.user.is_staff and not selectors.moderated_communities(request.user).exists():
        raise PermissionDenied
    context = {
        "community": community,
        "reports": selectors.queue(user=request.user, community=community),
        "handled": selectors.queue(user=request.user, community=community, state=Report.State.HANDLED)[:30],
    }
    return render(request, "moderation/queue.html", context)


@login_required
def report_detail(request, pk):
    report = get_object_or_404(Report.objects.select_related("community", "subject", "reporter", "call"), pk=pk)
    if not services.can_handle(request.user, report):
        raise PermissionDenied
    form = ResolveForm(request.POST or None, staff=request.user.is_staff)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_resolve(
                report=report,
                actor=request.user,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                days=form.cleaned_data.get("days"),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The report is handled. The person who reported it has been told."))
            return redirect("moderation_queue")
    return render(request, "moderation/report_detail.html", {"report": report, "form": form, "help": OUTCOME_HELP})


@login_required
def audit(request, slug=None):
    community = community_for(request, slug, own=True) if slug else None
    if community is None and not request.user.is_staff:
        raise PermissionDenied
    return render(
        request, "moderation/audit.html", {"community": community, "entries": selectors.audit_log(community=community)}
    )


def crisis(request):
    communities = []
    if request.user.is_authenticated:
        communities = Community.objects.filter(
            memberships__user=request.user, memberships__state=Membership.State.ACTIVE
        )
    own, defaults = selectors.crisis_resources(communities=communities)
    return render(request, "moderation/crisis.html", {"own": own, "defaults": defaults})


@login_required
def person(request, pk):
    """A person's page: their display name, and a way to report a concern. Only for people who share
    a community with them."""
    other = get_object_or_404(User, pk=pk, is_active=True)
    if (
        other.pk != request.user.pk
        and not request.user.is_staff
        and not selectors.shares_a_community(request.user, other)
    ):
        raise PermissionDenied
    shared = Community.objects.filter(memberships__user=other, memberships__state=Membership.State.ACTIVE).filter(
        memberships__in=Membership.objects.filter(user=request.user, state=Membership.State.ACTIVE)
    )
    return render(request, "moderation/person.html", {"other": other, "shared": shared.distinct()})


@login_required
def ban(request, slug, pk):
    """Ban or suspend a member from the Members page."""
    community = community_for(request, slug, facilitate=True)
    membership = get_object_or_404(Membership, community=community, pk=pk)
    if request.method != "POST":
        return render(request, "moderation/ban.html", {"community": community, "membership": membership})
    days = request.POST.get("days") or None
    try:
        services.ban_from_community(
            community=community,
            user=membership.user,
            actor=request.user,
            reason=request.POST.get("reason", "")[:1000],
            days=int(days) if days else None,
        )
    except (ValidationError, ValueError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [_("Choose a number of days.")])))
        return redirect("member_ban", slug=slug, pk=pk)
    messages.success(request, _("%(name)s can no longer take part.") % {"name": membership.user.display_name})
    if permissions.can_facilitate(request.user, community):
        return redirect("members", slug=slug)
    return redirect("community", slug=slug)
