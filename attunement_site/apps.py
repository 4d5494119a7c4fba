from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "attunement_site"
    verbose_name = "Attunement"
