from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.utils.translation import gettext as _

from accounts.models import SiteBan


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up stores the display name and time zone with the new account, in one save, and refuses
    addresses banned from the site."""

    def clean_email(self, email):
        email = super().clean_email(email)
        if SiteBan.objects.filter(email=email.lower()).exists():
            raise forms.ValidationError(_("This address cannot be used to sign up."))
        return email

    def save_user(self, request, user, form, commit=True):
        details = form.cleaned_data
        user.display_name = details.get("display_name") or user.display_name
        user.time_zone = details.get("time_zone") or user.time_zone
        return super().save_user(request, user, form, commit=commit)
