from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from attunement_site import views
from attunement_site.metrics import metrics_view

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("privacy/", views.privacy, name="privacy"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("groups.urls")),
    path("", include("sharing.urls")),
    path("", include("moderation.urls")),
    path("", include("journey.urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
]
