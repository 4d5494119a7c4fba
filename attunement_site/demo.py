"""Demo people for trying the site locally. Each app adds its own part through seed_demo."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User

DEMO_PASSWORD = "attune-demo"  # noqa: S105 (a published demo password, refused when DEBUG is off)
FACILITATOR_EMAIL = "facilitator@example.com"
OWNER_EMAIL = "owner@example.com"  # owns the demo community; owners must set up two-factor login
MEMBER_EMAILS = [f"member{n}@example.com" for n in range(1, 6)]
DISPLAY_NAMES = {
    OWNER_EMAIL: "Olu",  # roles show as badges beside names, so names carry none
    FACILITATOR_EMAIL: "Fran",
    "member1@example.com": "Maya",
    "member2@example.com": "Jonas",
    "member3@example.com": "Aiko",
    "member4@example.com": "Sam",
    "member5@example.com": "Rosa",
}
ROLE_NAMES = {"Olu (owner)", "Fran (facilitator)"}  # the names demo people once had, renamed on the next run


@transaction.atomic
def seed_people() -> dict[str, User]:
    people = {}
    for email in [OWNER_EMAIL, FACILITATOR_EMAIL, *MEMBER_EMAILS]:
        user, created = User.objects.get_or_create(
            email=email, defaults={"display_name": DISPLAY_NAMES[email], "time_zone": "Europe/Berlin"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        elif user.display_name in ROLE_NAMES:
            user.display_name = DISPLAY_NAMES[email]
            user.save(update_fields=["display_name"])
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        people[email] = user
    return people
