from django.contrib import admin

from groups.models import RSVP, Agreement, Call, CallFormat, Community, Invite, Membership, Notification, Series


class AgreementInline(admin.TabularInline):
    model = Agreement
    extra = 0
    readonly_fields = ["version", "created_by", "created_at"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "visibility", "join_policy", "agreements_version", "created_at"]
    list_filter = ["visibility", "join_policy"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AgreementInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "role", "state", "accepted_agreements_version", "created_at"]
    list_filter = ["role", "state", "community"]
    search_fields = ["user__email", "user__display_name", "community__name"]
    raw_id_fields = ["user", "community"]


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["community", "note", "uses", "max_uses", "expires_at", "revoked_at", "created_by"]
    list_filter = ["community"]
    readonly_fields = ["token", "uses"]


@admin.register(CallFormat)
class CallFormatAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "grace_seconds", "updated_at"]
    list_filter = ["community"]
    search_fields = ["name"]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["title", "community", "frequency", "start_time", "time_zone", "ends", "facilitator"]
    list_filter = ["frequency", "community"]
    search_fields = ["title", "community__name"]
    raw_id_fields = ["facilitator", "co_facilitator"]
    readonly_fields = ["uid", "sequence", "version", "materialised_until"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["title", "community", "starts_at", "status", "capacity", "facilitator"]
    list_filter = ["status", "community"]
    search_fields = ["title", "community__name"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["series", "facilitator", "co_facilitator"]
    readonly_fields = ["uid", "sequence", "version"]


@admin.register(RSVP)
class RSVPAdmin(admin.ModelAdmin):
    list_display = ["user", "call", "status", "responded_at", "waitlisted_at", "promoted_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__display_name", "call__title"]
    raw_id_fields = ["user", "call"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Staff see failed deliveries here: filter by state."""

    list_display = ["kind", "recipient", "call", "state", "due_at", "sent_at", "attempts", "last_error"]
    list_filter = ["state", "kind"]
    search_fields = ["recipient__email", "call__title"]
    raw_id_fields = ["recipient", "call", "community"]
    date_hierarchy = "due_at"
