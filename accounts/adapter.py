from allauth.account.adapter import DefaultAccountAdapter
from django.contrib import messages

from accounts.models import SiteBan


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up stores the display name and time zone with the new account, in one save.

    An address banned from the site is answered like an address already in use (allauth's enumeration
    prevention), so the page tells no one it is banned: sign-up says a confirmation email is on its
    way and makes no account (accounts.forms.SignupDetailsForm), adding it to an account leaves it
    unconfirmed, and the only email goes to the address itself, saying it cannot be used here.
    """

    def send_account_already_exists_mail(self, email):
        if SiteBan.covers(email):
            self._send_address_unavailable(email)
            return
        super().send_account_already_exists_mail(email)

    def send_confirmation_mail(self, request, emailconfirmation, signup):
        email = emailconfirmation.email_address.email
        if SiteBan.covers(email):
            self._send_address_unavailable(email)
            return
        super().send_confirmation_mail(request, emailconfirmation, signup)

    def confirm_email(self, request, email_address):
        if SiteBan.covers(email_address.email):
            # The answer allauth gives when another account holds the address.
            self.add_message(
                request,
                messages.ERROR,
                "account/messages/email_confirmation_failed.txt",
                {"email": email_address.email},
            )
            return False
        return super().confirm_email(request, email_address)

    def _send_address_unavailable(self, email):
        self.send_mail("account/email/address_unavailable", email, {"email": email})

    def save_user(self, request, user, form, commit=True):
        details = form.cleaned_data
        user.display_name = details.get("display_name") or user.display_name
        user.time_zone = details.get("time_zone") or user.time_zone
        return super().save_user(request, user, form, commit=commit)
