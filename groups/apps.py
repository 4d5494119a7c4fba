from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Communities and calls")

    def ready(self):
        from accounts.signals import profile_changed
        from core import two_factor
        from groups.permissions import owner_since, owns_a_community
        from groups.services.preferences import on_profile_changed

        # Owners keep other people safe: they need a second factor, with a week from becoming owner to set it up.
        two_factor.require_for(owns_a_community, since=owner_since)
        profile_changed.connect(on_profile_changed, dispatch_uid="groups.profile_changed")
