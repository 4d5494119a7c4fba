"""The account itself: profile, email addresses, two-factor devices."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator


def export(user) -> dict:
    return {
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "time_zone": user.time_zone,
            "date_joined": user.date_joined.isoformat(),
            "theme": user.theme,
            "reminders": user.reminders,
            "notify_updates": user.notify_updates,
            "accommodations": {
                "extra_time": user.extra_time,
                "prefers_typing": user.prefers_typing,
                "reflections_default": user.reflections_default,
                "audio_cues": user.audio_cues,
                "cue_volume": user.cue_volume,
                "read_aloud": user.read_aloud,
                "large_controls": user.large_controls,
                "auto_unmute": user.auto_unmute,
            },
            "calendar_feed": bool(user.calendar_token),
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user)
        ],
        "two_factor": [authenticator.type for authenticator in Authenticator.objects.filter(user=user)],
    }


def erase(user) -> None:
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
