from django.urls import path

from moderation import views

urlpatterns = [
    path("report/", views.report, name="report"),
    path("moderation/", views.queue, name="moderation_queue"),
    path("moderation/reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("moderation/audit/", views.audit, name="audit_log"),
    path("c/<slug:slug>/moderation/", views.queue, name="community_moderation"),
    path("c/<slug:slug>/audit/", views.audit, name="community_audit"),
    path("c/<slug:slug>/members/<int:pk>/ban/", views.ban, name="member_ban"),
    path("crisis/", views.crisis, name="crisis"),
    path("people/<int:pk>/", views.person, name="person"),
]
