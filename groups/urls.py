from django.urls import path

from groups.views import calendars, calls, communities, formats, members, scheduling
from groups.views.unsubscribe import unsubscribe_view

urlpatterns = [
    path("communities/", communities.directory, name="directory"),
    path("communities/new/", communities.community_create, name="community_create"),
    path("c/<slug:slug>/", communities.community_detail, name="community"),
    path("c/<slug:slug>/edit/", communities.community_edit, name="community_edit"),
    path("c/<slug:slug>/join/", communities.join, name="join"),
    path("c/<slug:slug>/leave/", communities.leave, name="leave"),
    path("c/<slug:slug>/agreements/", communities.agreements, name="agreements"),
    path("c/<slug:slug>/agreements/edit/", communities.agreements_edit, name="agreements_edit"),
    path("c/<slug:slug>/members/", members.members, name="members"),
    path("c/<slug:slug>/members/<int:pk>/approve/", members.approve, name="member_approve"),
    path("c/<slug:slug>/members/<int:pk>/decline/", members.decline, name="member_decline"),
    path("c/<slug:slug>/members/<int:pk>/remove/", members.remove, name="member_remove"),
    path("c/<slug:slug>/members/<int:pk>/role/", members.set_role, name="member_role"),
    path("c/<slug:slug>/invites/", members.invites, name="invites"),
    path("c/<slug:slug>/invites/<int:pk>/revoke/", members.invite_revoke, name="invite_revoke"),
    path("invite/<str:token>/", members.invite_accept, name="invite_accept"),
    path("c/<slug:slug>/formats/", formats.formats, name="formats"),
    path("c/<slug:slug>/formats/new/", formats.format_create, name="format_create"),
    path("c/<slug:slug>/formats/<int:pk>/edit/", formats.format_edit, name="format_edit"),
    path("c/<slug:slug>/series/new/", scheduling.series_create, name="series_create"),
    path("c/<slug:slug>/calls/new/", scheduling.call_create, name="call_create"),
    path("series/<int:pk>/", scheduling.series_detail, name="series"),
    path("series/<int:pk>/edit/", scheduling.series_edit, name="series_edit"),
    path("series/<int:pk>/calendar.ics", calendars.series_ics, name="series_ics"),
    path("calls/<int:call_id>/", calls.call_detail, name="call"),
    path("calls/<int:call_id>/rsvp/", calls.rsvp, name="rsvp"),
    path("calls/<int:call_id>/edit/", scheduling.call_edit, name="call_edit"),
    path("calls/<int:call_id>/cancel/", scheduling.call_cancel, name="call_cancel"),
    path("calls/<int:call_id>/calendar.ics", calendars.call_ics, name="call_ics"),
    path("me/calls/", calls.my_calls, name="my_calls"),
    path("calendar/<str:token>.ics", calendars.feed, name="calendar_feed"),
    path("unsubscribe/<str:token>/", unsubscribe_view, name="unsubscribe"),
]
