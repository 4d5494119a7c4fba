from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from groups import unsubscribe
from groups.services.preferences import unsubscribe_person


@csrf_exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" without a form; the signed address is the key
def unsubscribe_view(request, token):
    found = unsubscribe.read(token)
    if found is None:
        raise Http404
    user = User.objects.filter(pk=found[0], is_active=True).first()
    if user is None:
        raise Http404
    scope = found[1]
    if request.method == "POST":
        unsubscribe_person(user=user, scope=scope)
        return render(request, "groups/unsubscribed.html", {"scope": scope, "done": True})
    return render(request, "groups/unsubscribed.html", {"scope": scope, "done": False})
