from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = _("Live rooms")

    def ready(self):
        from core import standing
        from sharing.services import on_standing_changed

        standing.changed.connect(on_standing_changed, dispatch_uid="sharing.on_standing_changed")
