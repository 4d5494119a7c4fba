from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.models import Report

OUTCOME_HELP = {
    Report.Outcome.DISMISSED: _("Nothing to do."),
    Report.Outcome.WARNED: _("Ask the person, by email, to read the agreements again."),
    Report.Outcome.REMOVED_FROM_CALL: _("Remove them from the call the report is about."),
    Report.Outcome.SUSPENDED: _("They cannot take part for a number of days."),
    Report.Outcome.BANNED: _("They cannot take part in this community again."),
    Report.Outcome.BANNED_FROM_SITE: _("Site staff only: the account stops working."),
}


class ReportForm(forms.Form):
    subject = forms.TypedChoiceField(label=_("Who are you concerned about?"), coerce=int)
    reason = forms.ChoiceField(label=_("What is the concern?"), choices=Report.Reason.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Anything you want to add (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only the moderators of this community and site staff read it."),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = [(person.pk, person.display_name) for person in people]


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(label=_("What to do"), choices=Report.Outcome.choices, widget=forms.RadioSelect)
    days = forms.IntegerField(label=_("Days (for a suspension)"), required=False, min_value=1, max_value=365)
    reason = forms.CharField(
        label=_("Why (for the audit log)"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, staff=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = Report.Outcome.choices if staff else [c for c in Report.Outcome.choices if c[0] != "banned_from_site"]
        self.fields["outcome"].choices = choices
