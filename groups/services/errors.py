from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

STALE_MESSAGE = _(
    "Someone else changed this while you were editing. The form now shows the latest version; "
    "please make your change again."
)


def stale_edit() -> ValidationError:
    return ValidationError(STALE_MESSAGE, code="stale")


def is_stale(error: ValidationError) -> bool:
    return getattr(error, "code", None) == "stale"
