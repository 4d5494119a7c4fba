from django.contrib import admin

from accounts.models import SiteBan
from core.models import AuditEntry
from moderation.models import CrisisResource, Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Who reported whom, and the note, are shown only to staff allowed to see personal data."""

    list_display = ["pk", "reason", "community", "state", "outcome", "created_at", "handled_at"]
    list_filter = ["state", "reason", "outcome", "community"]
    readonly_fields = ["reporter", "subject", "community", "call", "reason", "note", "created_at"]

    def get_fields(self, request, obj=None):
        fields = ["reason", "community", "call", "state", "outcome", "handled_by", "handled_at", "created_at"]
        if request.user.has_perm("moderation.view_personal_data"):
            fields = ["reporter", "subject", "note", *fields]
        return fields


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read only: nobody edits or deletes the audit log, here or anywhere."""

    list_display = ["created_at", "action", "actor", "subject", "community"]
    list_filter = ["action", "community"]
    search_fields = ["action", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SiteBan)
class SiteBanAdmin(admin.ModelAdmin):
    list_display = ["email", "created_by", "created_at"]
    search_fields = ["email"]


@admin.register(CrisisResource)
class CrisisResourceAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "phone", "community", "position"]
    list_filter = ["community", "country"]
