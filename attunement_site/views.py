from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from attunement_site.health import run_checks


def home(request):
    return render(request, "home.html")


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
