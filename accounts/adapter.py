from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up stores the display name and time zone with the new account, in one save."""

    def save_user(self, request, user, form, commit=True):
        details = form.cleaned_data
        user.display_name = details.get("display_name") or user.display_name
        user.time_zone = details.get("time_zone") or user.time_zone
        return super().save_user(request, user, form, commit=commit)
