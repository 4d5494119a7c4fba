from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from attunement_site import views
from attunement_site.metrics import metrics_view

# Django's own admin login form signs staff in with the password alone. Sign-in goes through
# allauth, which asks staff for their second factor; the admin's login only lets staff through.
admin.site.login = secure_admin_login(admin.site.login)

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
