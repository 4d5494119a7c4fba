from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import SiteBan, User
from accounts.timezones import time_zone_choices


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Time zone"))
        kwargs.setdefault(
            "help_text",
            _("We show every call in this zone. We filled it in from your device; change it if needed."),
        )
        super().__init__(choices=time_zone_choices, **kwargs)
        self.widget.attrs["data-detect-time-zone"] = ""
        self.widget.attrs["autocomplete"] = "off"


class SignupDetailsForm(forms.Form):
    """Extra sign-up fields; allauth adds email and password around them."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=_("How others see you in calls. A first name or a pseudonym is fine."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    time_zone = TimeZoneField(initial="UTC")

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Please choose a name others will see."))
        return name

    def clean(self):
        cleaned_data = super().clean()
        if SiteBan.covers(cleaned_data.get("email", "")):
            # allauth then answers as for an address in use: no account, one email to the address.
            self.account_already_exists = True
        return cleaned_data

    def signup(self, request, user):
        """Nothing left to do: the adapter saved the display name and time zone with the account."""


class ProfileForm(forms.ModelForm):
    time_zone = TimeZoneField()

    # The profile page shows the fields in these groups, each a fieldset with its legend.
    SECTIONS = [
        (_("About you"), ["display_name", "time_zone"]),
        (_("How the site looks"), ["theme"]),
        (
            _("Accommodations in calls"),
            [
                "extra_time",
                "prefers_typing",
                "reflections_default",
                "audio_cues",
                "cue_volume",
                "read_aloud",
                "large_controls",
                "auto_unmute",
            ],
        ),
        (_("Email"), ["reminders", "notify_updates"]),
    ]

    class Meta:
        model = User
        fields = [
            "display_name",
            "time_zone",
            "theme",
            "extra_time",
            "prefers_typing",
            "reflections_default",
            "audio_cues",
            "cue_volume",
            "read_aloud",
            "large_controls",
            "auto_unmute",
            "reminders",
            "notify_updates",
        ]
        widgets = {
            "theme": forms.RadioSelect,
            "reminders": forms.RadioSelect,
            "extra_time": forms.RadioSelect,
            "reflections_default": forms.RadioSelect,
            "cue_volume": forms.NumberInput(attrs={"type": "range", "min": 0, "max": 100, "step": 5}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                # The box first, its label beside it. (Form templates load from app directories.)
                field.template_name = "accounts/_check_field.html"

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def clean_display_name(self):
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Please choose a name others will see."))
        return name
