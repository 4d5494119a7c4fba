import pytest
from django.contrib.admin.sites import site

from core.models import AuditEntry
from groups.models import Membership
from groups.services.communities import membership_approve, membership_set_role


def test_role_and_membership_actions_are_written_to_the_audit_log(circle):
    pending = Membership.objects.get(community=circle.community, user=circle.pending)
    membership_approve(membership=pending, actor=circle.facilitator)
    member = Membership.objects.get(community=circle.community, user=circle.member)
    membership_set_role(membership=member, actor=circle.owner, role="facilitator")
    entries = list(
        AuditEntry.objects.order_by("pk").values_list("action", "actor__display_name", "subject__display_name")
    )
    assert entries == [("member.approve", "Fran", "Pat"), ("member.role", "Olive", "Maya")]
    role = AuditEntry.objects.get(action="member.role")
    assert role.detail == {"old": "member", "new": "facilitator"}


def test_nobody_can_change_or_delete_the_audit_log(circle, rf):
    entry = AuditEntry.objects.create(actor=circle.owner, action="member.role", subject=circle.member)
    entry.reason = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    admin = site._registry[AuditEntry]
    request = rf.get("/admin/")
    request.user = circle.staff
    assert not admin.has_change_permission(request, entry)
    assert not admin.has_delete_permission(request, entry)
    assert not admin.has_add_permission(request)
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


def test_owners_read_their_communitys_audit_log(client, circle):
    AuditEntry.objects.create(
        actor=circle.owner, action="member.role", subject=circle.member, community=circle.community
    )
    client.force_login(circle.owner)
    assert "member.role" in client.get(f"/c/{circle.community.slug}/audit/").content.decode()
    client.force_login(circle.facilitator)
    assert client.get(f"/c/{circle.community.slug}/audit/").status_code == 403
