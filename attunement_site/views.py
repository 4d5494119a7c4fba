from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.signals import NEW_MEMBER_KEY
from attunement_site.health import run_checks
from groups import selectors


def home(request):
    context = {}
    if request.user.is_authenticated:
        # A person who has just signed up is welcomed, not welcomed back: once, on their first visit.
        context["new_member"] = request.session.pop(NEW_MEMBER_KEY, False)
        context.update(selectors.next_step(user=request.user))
    return render(request, "home.html", context)


def privacy(request):
    return render(request, "privacy.html")


@never_cache
async def healthz(request):
    components = await run_checks()
    healthy = all(result["ok"] for result in components.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "components": components},
        status=200 if healthy else 503,
    )
