from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attunement_site import demo
from groups import demo as groups_demo
from groups.services.formats import format_default
from journey import demo as journey_demo
from sharing import demo as sharing_demo


class Command(BaseCommand):
    help = "Create demo people (and, with the other apps, a demo community and calls). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with a published password; DEBUG is off, so use --force.")
        people = demo.seed_people()
        community = groups_demo.seed_community(
            owner=people[demo.OWNER_EMAIL],
            facilitator=people[demo.FACILITATOR_EMAIL],
            members=[people[email] for email in demo.MEMBER_EMAILS],
        )
        sharing_demo.fresh_rooms(community=community)
        journey_demo.seed_history(
            community=community,
            facilitator=people[demo.FACILITATOR_EMAIL],
            members=[people[email] for email in demo.MEMBER_EMAILS],
            call_format=format_default(),
            title=groups_demo.WEEKLY_TITLE,
            capacity=groups_demo.WEEKLY_CAPACITY,  # past calls have the seats of the series they stand for
        )
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(f"Facilitator: {demo.FACILITATOR_EMAIL}")
        self.stdout.write(f"Community owner (asked to set up two-factor login): {demo.OWNER_EMAIL}")
        self.stdout.write(f"Members: {', '.join(demo.MEMBER_EMAILS)}")
        self.stdout.write(f"Password for all of them: {demo.DEMO_PASSWORD}")
        self.stdout.write(f"Community: {settings.SITE_URL}{community.get_absolute_url()}")
