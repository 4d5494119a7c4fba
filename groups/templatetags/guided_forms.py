"""Forms that report every problem at once: a summary at the top that links to each field."""

from dataclasses import dataclass

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@dataclass(frozen=True)
class Problem:
    href: str
    text: str


def _target(bound) -> str:
    """The element a summary link moves focus to: the field, or the first choice of a set of choices."""
    if bound.field.widget.use_fieldset:
        return f"#{bound.auto_id}_0"
    return f"#{bound.auto_id}"


def _form_problems(form, *, within: str = "", anchor: str = "") -> list[Problem]:
    problems = []
    for message in form.non_field_errors():
        problems.append(Problem(href=anchor, text=f"{within}: {message}" if within else str(message)))
    found = form.errors.as_data()
    for name in form.fields:  # in the order the fields appear
        if name not in found:
            continue
        errors = found[name]
        bound = form[name]
        if bound.is_hidden:
            problems.extend(Problem(href=anchor, text=" ".join(error.messages)) for error in errors)
            continue
        label = str(bound.label)
        for error in errors:
            for message in error.messages:
                if within and error.params and "n" in error.params:
                    text = message  # it names its segment already
                elif within:
                    text = _("%(where)s, %(field)s: %(problem)s") % {
                        "where": within,
                        "field": label,
                        "problem": message,
                    }
                else:
                    text = _("%(field)s: %(problem)s") % {"field": label, "problem": message}
                problems.append(Problem(href=_target(bound), text=text))
    return problems


@register.inclusion_tag("_error_summary.html")
def error_summary(form, formset=None, item_name=""):
    """Every problem on a form (and its formset, whose forms are named `item_name` and numbered)."""
    problems = _form_problems(form, anchor="#main") if form is not None else []
    if formset is not None:
        problems += [Problem(href="#segments", text=str(message)) for message in formset.non_form_errors()]
        for position, item in enumerate(formset.display_forms(), start=1):
            if formset.can_delete and item["DELETE"].value():
                continue  # left out: its problems do not count
            where = _("%(item)s %(n)s") % {"item": item_name, "n": position}
            problems += _form_problems(item, within=where, anchor=f"#{item.prefix}")
    return {"problems": problems}
