"""A person's standing changed: they left or were removed from a community, were banned, lost
a role, lost their second factor, or a call was given to another facilitator.

Whoever makes the change sends `changed` inside the same transaction. Apps that hold live state
about people (the rooms) listen and bring it in line before the transaction commits, so a room's
seats never disagree with the community's memberships.
"""

from django.dispatch import Signal

# Keyword arguments: user_id (int), community_id (int or None for every community), call_id (int or None).
changed = Signal()


def announce(*, user_id: int, community_id: int | None = None, call_id: int | None = None) -> None:
    changed.send(sender=None, user_id=user_id, community_id=community_id, call_id=call_id)
