"""`{% crisis_resources community %}`: a community's own crisis resources, or the site's defaults."""

from django import template

from moderation.selectors import crisis_resources as resources_for

register = template.Library()


@register.inclusion_tag("moderation/_resources.html")
def crisis_resources(community):
    own, defaults = resources_for(communities=[community])
    return {"resources": own or defaults}
