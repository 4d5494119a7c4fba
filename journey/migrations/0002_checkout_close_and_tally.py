import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def mark_members_answers(apps, schema_editor):
    """Answers saved before this change count only if their author was in the call as a member,
    did not hold it, and is a member (not a facilitator or owner) of the community now. Answers
    whose author has been erased cannot be checked, so they do not count."""
    CheckOut = apps.get_model("journey", "CheckOut")
    Participant = apps.get_model("sharing", "Participant")
    Membership = apps.get_model("groups", "Membership")
    in_call_as_member = Participant.objects.filter(
        room_id=models.OuterRef("call_id"),
        user_id=models.OuterRef("user_id"),
        role="member",
        admitted_at__isnull=False,
    )
    member_of_community = Membership.objects.filter(
        community_id=models.OuterRef("call__community_id"), user_id=models.OuterRef("user_id"), role="member"
    )
    (
        CheckOut.objects.filter(user__isnull=False, user__is_staff=False)
        .filter(models.Exists(in_call_as_member), models.Exists(member_of_community))
        .exclude(user_id=models.F("call__facilitator_id"))
        .exclude(user_id=models.F("call__co_facilitator_id"))
        .update(as_member=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0004_membership_banned_until_alter_notification_kind"),
        ("sharing", "0002_participant_checkin"),
        ("journey", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkout",
            name="as_member",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_members_answers, migrations.RunPython.noop),
        migrations.CreateModel(
            name="CheckOutTally",
            fields=[
                (
                    "call",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="checkout_tally",
                        serialize=False,
                        to="groups.call",
                    ),
                ),
                ("tallied_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("published", models.BooleanField(default=False)),
                ("answers", models.PositiveSmallIntegerField(default=0)),
                ("felt_heard_total", models.PositiveIntegerField(default=0)),
                ("helped", models.JSONField(blank=True, default=dict)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(models.Q(("answers__gte", 3), ("published", True)))
                        | models.Q(("answers", 0), ("felt_heard_total", 0), ("published", False)),
                        name="checkout_tally_published_only_from_k",
                    )
                ],
            },
        ),
    ]
