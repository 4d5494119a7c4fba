"""The five steps of self-attunement, in order, with their gentle copy."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    guidance: str
    prompt: str


STEPS = (
    Step(
        1,
        _("Pause and ground"),
        _(
            "Let yourself arrive. Feel where your body meets the chair, the bed or the floor. "
            "There is nothing to get right here; a few breaths at your own pace is plenty."
        ),
        _("Anything you want to note as you arrive (optional)"),
    ),
    Step(
        2,
        _("Be curious about your body"),
        _(
            "With kind curiosity, ask: what is happening in my body right now? "
            "Tension, movement, ease, tiredness, pain, or nothing much at all. Simply notice."
        ),
        _("What you notice in your body (optional)"),
    ),
    Step(
        3,
        _("Name what you notice"),
        _(
            "Give it a word or two, the way you might name the weather: "
            '"tight shoulders", "restless", "heavy", "settled". Naming is not judging.'
        ),
        _("A word or two for it (optional)"),
    ),
    Step(
        4,
        _("Offer yourself compassion"),
        _(
            "Living with this is hard sometimes. Offer yourself what you would offer a friend: "
            '"this is difficult, and I am doing my best". A hand on your heart can help, if it feels right.'
        ),
        _("What you would say to a friend (optional)"),
    ),
    Step(
        5,
        _("Ask what is needed"),
        _(
            "Ask gently: what do I need right now? Perhaps rest, water, a change of position, "
            "to listen today rather than share, or to say something out loud."
        ),
        _("What you need (optional)"),
    ),
)

STEP_COUNT = len(STEPS)


def step(number: int) -> Step:
    return STEPS[number - 1]
