import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from groups import selectors
from groups.access import community_for
from groups.formats import MAX_SEGMENTS, default_segments, presets
from groups.forms import FormatForm, SegmentFormSet, apply_errors, segment_initial
from groups.models import CallFormat
from groups.services import formats as services


@login_required
def formats(request, slug):
    community = community_for(request, slug, facilitate=True)
    return render(request, "groups/formats.html", {"community": community, "formats": selectors.formats_for(community)})


def _edit(request, community, instance=None):
    segments = instance.segments if instance else default_segments()
    form = FormatForm(request.POST or None, instance=instance)
    formset = SegmentFormSet(request.POST or None, initial=segment_initial(segments), prefix="segments")
    valid = request.method == "POST" and all([form.is_valid(), formset.is_valid()])  # both, for every error
    if valid:
        fields = {
            "name": form.cleaned_data["name"],
            "description": form.cleaned_data["description"],
            "grace_seconds": form.cleaned_data["grace_seconds"],
            "segments": formset.segments(),
        }
        try:
            if instance is None:
                services.format_create(community=community, actor=request.user, **fields)
            else:
                services.format_update(call_format=instance, actor=request.user, **fields)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The format is saved."))
            return redirect("formats", slug=community.slug)
    return render(
        request,
        "groups/format_form.html",
        {
            "community": community,
            "form": form,
            "formset": formset,
            "call_format": instance,
            "presets": [{**preset, "json": json.dumps(preset["segment"])} for preset in presets()],
            "max_segments": MAX_SEGMENTS,
        },
    )


@login_required
def format_create(request, slug):
    community = community_for(request, slug, facilitate=True)
    return _edit(request, community)


@login_required
def format_edit(request, slug, pk):
    community = community_for(request, slug, facilitate=True)
    instance = get_object_or_404(CallFormat, community=community, pk=pk)
    return _edit(request, community, instance)
