from groups.models.calls import RSVP, Call, Series
from groups.models.communities import Agreement, Community, Invite, Membership
from groups.models.formats import CallFormat
from groups.models.notifications import Notification

__all__ = [
    "RSVP",
    "Agreement",
    "Call",
    "CallFormat",
    "Community",
    "Invite",
    "Membership",
    "Notification",
    "Series",
]
