from datetime import time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import TimeZoneField
from groups import selectors
from groups.formats import (
    GRACE_BOUNDS,
    KIND_FIELDS,
    KINDS,
    MAX_SEGMENTS,
    REFLECTION_MODES,
    parse_segments,
    segment_errors,
)
from groups.models import Call, CallFormat, Community, Membership, Series
from groups.models.calls import DEFAULT_CAPACITY, MAX_CAPACITY, MIN_CAPACITY
from groups.models.communities import DEFAULT_AGREEMENTS
from groups.recurrence import MAX_COUNT, MAX_DURATION, MIN_DURATION, Recurrence
from groups.services.communities import INVITE_MAX_DAYS, INVITE_MAX_USES
from groups.services.scheduling import CallDetails, first_start_errors, host_errors, start_errors

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
MONTH_WEEKS = [(1, _("first")), (2, _("second")), (3, _("third")), (4, _("fourth")), (-1, _("last"))]


def add_errors(form: forms.Form, errors: dict) -> None:
    """Add errors found by a service's checks, skipping fields that already show an error."""
    for field, messages in errors.items():
        if field not in form.errors:
            form.add_error(field if field in form.fields else None, messages)


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its fields when it names them."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class CommunityForm(forms.ModelForm):
    agreements = forms.CharField(
        label=_("Group agreements"),
        widget=forms.Textarea(attrs={"rows": 7}),
        initial=DEFAULT_AGREEMENTS,
        help_text=_("One agreement per line. Members accept them before their first call."),
    )

    class Meta:
        model = Community
        fields = [
            "name",
            "slug",
            "description",
            "visibility",
            "join_policy",
            "join_question",
            "remind_day_before",
            "remind_soon_before",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "visibility": forms.RadioSelect,
            "join_policy": forms.RadioSelect,
        }
        help_texts = {"slug": _("Lowercase letters, numbers and hyphens, used in the page's address.")}

    def __init__(self, *args, creating=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["agreements"]
            del self.fields["slug"]


class AgreementsForm(forms.Form):
    text = forms.CharField(
        label=_("Group agreements"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=4000,
        help_text=_("One agreement per line. Changing them asks every member to accept them again."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class AcceptAgreementsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    accept = forms.BooleanField(label=_("I have read these agreements and I will keep them."))


class JoinForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class InviteForm(forms.Form):
    days = forms.IntegerField(label=_("Valid for how many days"), min_value=1, max_value=INVITE_MAX_DAYS, initial=14)
    max_uses = forms.IntegerField(
        label=_("How many people can use it"), min_value=1, max_value=INVITE_MAX_USES, initial=1
    )
    note = forms.CharField(label=_("Note for yourself (optional)"), max_length=100, required=False)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class FormatForm(forms.ModelForm):
    class Meta:
        model = CallFormat
        fields = ["name", "description", "grace_seconds"]
        help_texts = {
            "grace_seconds": _("After a turn's time, a soft chime and this many seconds before the room moves on.")
        }

    def clean_grace_seconds(self):
        value = self.cleaned_data["grace_seconds"]
        low, high = GRACE_BOUNDS
        if not low <= value <= high:
            raise ValidationError(_("Choose between %(low)s and %(high)s seconds.") % {"low": low, "high": high})
        return value


class SegmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("(choose)")), *KINDS.items()], required=False)
    title = forms.CharField(label=_("Title"), max_length=60, required=False)
    seconds = forms.IntegerField(
        label=_("Segment length (seconds)"),
        required=False,
        min_value=0,
        help_text=_("For grounding and open sharing."),
    )
    turn_seconds = forms.IntegerField(
        label=_("Turn length (seconds)"),
        required=False,
        min_value=0,
        help_text=_("For rounds and open sharing."),
    )
    reflection_seconds = forms.IntegerField(
        label=_("Reflection time after each turn (seconds)"),
        required=False,
        min_value=0,
        help_text=_("For rounds. 0 means no reflections."),
    )
    reflection_mode = forms.ChoiceField(label=_("Reflections are"), choices=REFLECTION_MODES.items(), initial="either")

    position = 1  # the number on the segment's card; the formset sets it

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind in KIND_FIELDS:
            # Fields this kind does not read are ignored, as the editor hides them.
            for field in {"seconds", "turn_seconds", "reflection_seconds", "reflection_mode"} - set(KIND_FIELDS[kind]):
                self.errors.pop(field, None)
                cleaned[field] = None if field != "reflection_mode" else "either"
        segment = self.as_segment()
        if segment is not None:
            add_errors(self, segment_errors(segment, self.position))
        return cleaned

    def display_name(self) -> str:
        """The segment's title, or its kind when it has none yet."""
        title = (self["title"].value() or "").strip()
        if title:
            return title
        return str(KINDS.get(self["kind"].value() or "", ""))

    def as_segment(self) -> dict | None:
        data = self.cleaned_data
        if not data or not data.get("kind") or data.get("DELETE"):
            return None
        segment = {"kind": data["kind"], "title": data.get("title") or ""}
        for key in ("seconds", "turn_seconds", "reflection_seconds"):
            if data.get(key) is not None:
                segment[key] = data[key]
        if data.get("reflection_seconds"):
            segment["reflection_mode"] = data.get("reflection_mode") or "either"
        return segment


def _place(order) -> int:
    """Where a segment goes: by its position number, and last when it has none (0 is a number too)."""
    return 10_000 if order is None else order


class BaseSegmentFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["ORDER"].label = _("Position in the list")
        form.fields["DELETE"].label = _("Leave this segment out")

    def full_clean(self):
        for position, form in enumerate(self.display_forms(), start=1):
            form.position = position
        super().full_clean()

    def segments(self) -> list[dict]:
        ordered = sorted(
            (form for form in self.forms if form.cleaned_data and form.as_segment()),
            key=lambda form: (_place(form.cleaned_data.get("ORDER")), self.forms.index(form)),
        )
        return [form.as_segment() for form in ordered]

    def clean(self):
        chosen = [form for form in self.forms if form.cleaned_data.get("kind") and not self._should_delete_form(form)]
        if len(chosen) > MAX_SEGMENTS:
            raise ValidationError(_("A format can have at most %(max)s segments.") % {"max": MAX_SEGMENTS})
        if not chosen and not any(self.errors):
            raise ValidationError(_("A format needs at least one segment. Choose a kind for one of them."))
        if any(self.errors):
            return
        self.parsed = parse_segments(self.segments())

    def display_forms(self) -> list:
        """The forms in the order the person chose: a form sent back with errors keeps its place."""
        if not self.is_bound:
            return list(self.forms)

        def place(index_form):
            index, form = index_form
            raw = form["ORDER"].value()
            try:
                return (int(raw), index)
            except (TypeError, ValueError):
                return (10_000, index)

        return [form for _index, form in sorted(enumerate(self.forms), key=place)]


SegmentFormSet = forms.formset_factory(
    SegmentForm, formset=BaseSegmentFormSet, extra=1, can_order=True, can_delete=True, max_num=MAX_SEGMENTS
)


def segment_initial(segments: list[dict]) -> list[dict]:
    return [{**segment, "ORDER": position} for position, segment in enumerate(segments, start=1)]


class CallDetailsForm(forms.Form):
    """The fields every call and series shares."""

    title = forms.CharField(label=_("Title"), max_length=100)
    format = forms.ModelChoiceField(label=_("Format"), queryset=CallFormat.objects.none(), empty_label=None)
    facilitator = forms.ModelChoiceField(label=_("Facilitator"), queryset=Membership.objects.none(), empty_label=None)
    co_facilitator = forms.ModelChoiceField(
        label=_("Co-facilitator (optional)"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("Nobody"),
        help_text=_("Has the same controls, and takes over if the facilitator's connection drops."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Length in minutes"), min_value=MIN_DURATION, max_value=MAX_DURATION, initial=75
    )
    capacity = forms.IntegerField(
        label=_("Seats"),
        min_value=MIN_CAPACITY,
        max_value=MAX_CAPACITY,
        initial=DEFAULT_CAPACITY,
        help_text=_("Places for members, from %(low)s to %(high)s. Facilitators do not take a seat.")
        % {"low": MIN_CAPACITY, "high": MAX_CAPACITY},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.community = community
        self.fields["format"].queryset = selectors.formats_for(community)
        facilitators = selectors.facilitators_of(community)
        self.fields["facilitator"].queryset = facilitators
        self.fields["co_facilitator"].queryset = facilitators
        self.fields["facilitator"].label_from_instance = lambda user: user.display_name
        self.fields["co_facilitator"].label_from_instance = lambda user: user.display_name

    def details(self) -> CallDetails:
        data = self.cleaned_data
        return CallDetails(
            title=data["title"],
            format=data["format"],
            facilitator=data["facilitator"],
            co_facilitator=data.get("co_facilitator"),
            duration_minutes=data["duration_minutes"],
            capacity=data["capacity"],
        )


class CallForm(CallDetailsForm):
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    time_zone = TimeZoneField(help_text=_("The time above is in this zone."))

    field_order = [
        "title",
        "day",
        "at",
        "time_zone",
        "duration_minutes",
        "format",
        "facilitator",
        "co_facilitator",
        "capacity",
    ]

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["time_zone"].disabled = True
            self.fields["time_zone"].required = False

    def clean(self):
        """Check what the scheduling service checks too, so that every problem shows at once."""
        cleaned = super().clean()
        add_errors(self, host_errors(cleaned.get("facilitator"), cleaned.get("co_facilitator")))
        day, at, zone = cleaned.get("day"), cleaned.get("at"), cleaned.get("time_zone")
        if day and at and zone:
            add_errors(self, start_errors(day=day, at=at, time_zone=zone, now=timezone.now()))
        return cleaned

    @classmethod
    def initial_for(cls, call: Call) -> dict:
        local = call.local_start()
        return {
            "title": call.title,
            "format": call.format_id,
            "facilitator": call.facilitator_id,
            "co_facilitator": call.co_facilitator_id,
            "duration_minutes": call.duration_minutes,
            "capacity": call.capacity,
            "day": local.date(),
            "at": local.time().replace(second=0, microsecond=0),
            "time_zone": call.time_zone,
            "version": call.version,
        }


class SeriesForm(CallDetailsForm):
    time_zone = TimeZoneField(
        help_text=_("Calls keep this wall-clock time in this zone, across daylight-saving changes.")
    )
    start_date = forms.DateField(label=_("First date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    frequency = forms.ChoiceField(
        label=_("Repeats"), choices=Series.Frequency.choices, widget=forms.RadioSelect, initial="weekly"
    )
    interval = forms.IntegerField(label=_("Every how many weeks or months"), min_value=1, max_value=12, initial=1)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("On these days"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    month_week = forms.TypedChoiceField(
        label=_("Which week of the month"),
        choices=MONTH_WEEKS,
        coerce=int,
        required=False,
        empty_value=None,
    )
    month_weekday = forms.TypedChoiceField(
        label=_("Which day"), choices=WEEKDAYS, coerce=int, required=False, empty_value=None
    )
    ends = forms.ChoiceField(label=_("Ends"), choices=Series.Ends.choices, widget=forms.RadioSelect, initial="never")
    until = forms.DateField(
        label=_("Last date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    count = forms.IntegerField(
        label=_("Number of calls"),
        required=False,
        min_value=1,
        max_value=MAX_COUNT,
    )

    field_order = [
        "title", "time_zone", "start_date", "start_time", "duration_minutes", "frequency", "interval",
        "weekdays", "month_week", "month_weekday", "ends", "until", "count",
        "format", "facilitator", "co_facilitator", "capacity",
    ]  # fmt: skip

    # Fields that count only for one choice of another field: the server ignores the others.
    FOR_CHOICE = {
        "frequency": {"weekly": ("weekdays",), "monthly": ("month_week", "month_weekday")},
        "ends": {"on_date": ("until",), "after_count": ("count",)},
    }
    # What each rule field's check reads: a problem is told only when those were read well.
    RULE_READS = {
        "frequency": ("frequency",),
        "interval": ("frequency", "interval"),
        "weekdays": ("frequency", "weekdays"),
        "month_week": ("frequency", "month_week"),
        "month_weekday": ("frequency", "month_weekday"),
        "ends": ("ends",),
        "until": ("ends", "until", "start_date"),
        "count": ("ends", "count"),
    }
    RULE_FIELDS = ("time_zone", "start_date", "start_time", "frequency", "interval", "ends")

    def __init__(self, *args, creating=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = creating

    def groups(self) -> dict:
        """Fields by the fieldset they appear in, with the choice each set belongs to."""
        return {
            name: [(choice, [self[field] for field in fields]) for choice, fields in choices.items()]
            for name, choices in self.FOR_CHOICE.items()
        }

    def _ignore_unchosen(self, cleaned: dict) -> None:
        for chooser, choices in self.FOR_CHOICE.items():
            chosen = cleaned.get(chooser)
            for choice, fields in choices.items():
                if choice == chosen:
                    continue
                for field in fields:
                    self.errors.pop(field, None)
                    cleaned[field] = [] if field == "weekdays" else None

    def recurrence(self) -> Recurrence:
        data = self.cleaned_data
        return Recurrence(
            time_zone=data["time_zone"],
            start_date=data["start_date"],
            start_time=data["start_time"],
            frequency=data["frequency"],
            interval=data["interval"],
            weekdays=tuple(sorted(data.get("weekdays") or ())),
            month_week=data.get("month_week"),
            month_weekday=data.get("month_weekday"),
            ends=data["ends"],
            until=data.get("until"),
            count=data.get("count"),
        )

    def clean(self):
        """Every problem at once: each field's, the rule's, and the scheduling service's own checks."""
        cleaned = super().clean()
        self._ignore_unchosen(cleaned)
        add_errors(self, host_errors(cleaned.get("facilitator"), cleaned.get("co_facilitator")))
        read = {field for field in cleaned if field not in self.errors}
        rule = Recurrence(
            time_zone=cleaned.get("time_zone") or "UTC",
            start_date=cleaned.get("start_date") or timezone.localdate(),
            start_time=cleaned.get("start_time") or time(0),
            frequency=cleaned.get("frequency") or "",
            interval=cleaned.get("interval") or 1,
            weekdays=tuple(sorted(cleaned.get("weekdays") or ())),
            month_week=cleaned.get("month_week"),
            month_weekday=cleaned.get("month_weekday"),
            ends=cleaned.get("ends") or "",
            until=cleaned.get("until"),
            count=cleaned.get("count"),
        )
        problems = rule.rule_errors()
        add_errors(
            self,
            {field: messages for field, messages in problems.items() if set(self.RULE_READS[field]) <= read},
        )
        if problems or not set(self.RULE_FIELDS) <= read:
            return cleaned
        try:
            rule.validate()
        except ValidationError as error:
            add_errors(self, error.message_dict)
            return cleaned
        if self.creating:
            add_errors(self, first_start_errors(rule, timezone.now()))
        return cleaned

    @classmethod
    def initial_for(cls, series: Series, from_call: Call | None = None) -> dict:
        start_date, count = series.start_date, series.count
        if from_call is not None:
            start_date = from_call.local_start().date()
            pivot = (from_call.original_start or from_call.starts_at).astimezone(series.zone).date()
            remaining = Recurrence.of(series).starting_from(pivot)
            if remaining is not None:
                count = remaining.count  # this call and the following ones, not the whole series
        return {
            "title": series.title,
            "format": series.format_id,
            "facilitator": series.facilitator_id,
            "co_facilitator": series.co_facilitator_id,
            "duration_minutes": series.duration_minutes,
            "capacity": series.capacity,
            "time_zone": series.time_zone,
            "start_date": start_date,
            "start_time": series.start_time,
            "frequency": series.frequency,
            "interval": series.interval,
            "weekdays": series.weekdays,
            "month_week": series.month_week,
            "month_weekday": series.month_weekday,
            "ends": series.ends,
            "until": series.until,
            "count": count,
            "version": series.version,
        }

    @classmethod
    def initial_new(cls, user, community) -> dict:
        tomorrow = timezone.localdate() + timedelta(days=1)
        return {
            "time_zone": user.time_zone,
            "start_date": tomorrow,
            "weekdays": [tomorrow.weekday()],
            "month_week": min((tomorrow.day - 1) // 7 + 1, 4),
            "month_weekday": tomorrow.weekday(),
            "facilitator": user.pk,
            "title": community.name,
        }


class CancelForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("What to cancel"),
        choices=[
            ("this", _("Only this call")),
            ("following", _("This call and every later one in the series")),
        ],
        widget=forms.RadioSelect,
        initial="this",
    )


class EditScopeForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[("this", _("Only this call")), ("following", _("This call and the following ones"))],
        widget=forms.RadioSelect,
        initial="this",
        label=_("What to change"),
    )
