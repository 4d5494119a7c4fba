from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import keep_account_on_login

        user_logged_in.connect(keep_account_on_login, dispatch_uid="keep_account_on_login")

        from allauth.account.signals import email_confirmed, user_signed_up

        from accounts.signals import mark_new_member

        user_signed_up.connect(mark_new_member, dispatch_uid="mark_new_member_signed_up")
        email_confirmed.connect(mark_new_member, dispatch_uid="mark_new_member_confirmed")

        from allauth.mfa import signals as mfa_signals

        from accounts.signals import two_factor_changed

        for signal in (mfa_signals.authenticator_added, mfa_signals.authenticator_removed):
            signal.connect(two_factor_changed, dispatch_uid=f"two_factor_changed_{id(signal)}")
