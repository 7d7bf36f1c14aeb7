"""Profile > Settings > API Keys: the list, a new key (after a recent step-up, shown
once), revoke. Thin: the form, then ``api.keys``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import not_while_impersonating
from accounts.tabs import settings_page
from security.stepup.decorators import high_security, stepup_required

from .. import keys
from ..exceptions import ApiRefusal
from ..forms import ApiKeyForm
from ..models import ApiKey

TAB = "api_keys"


@not_while_impersonating
@high_security("api_keys")
@require_GET
def key_list(request: HttpRequest) -> HttpResponse:
    active = request.teams.active
    return settings_page(
        request,
        TAB,
        "api/keys.html",
        {
            "keys": list(keys.keys_for(request.user)),
            "team": active.team if active else None,
            "now": timezone.now(),
        },
    )


@not_while_impersonating
@high_security("api_keys")
@require_http_methods(["GET", "POST"])
@stepup_required
@never_cache
def key_create(request: HttpRequest) -> HttpResponse:
    active = request.teams.active
    if active is None:
        messages.info(request, "API keys act in a team: join or create a team first.")
        return redirect("api:keys")
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = keys.create_key(
                user=request.user,
                team=active.team,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expiry_days=form.expiry_days(),
                request=request,
            )
        except ApiRefusal as refusal:
            form.add_error(None, str(refusal.detail))
        else:
            # Rendered, not redirected: the key is never kept anywhere to show it later.
            return settings_page(
                request, TAB, "api/key_created.html", {"key": created.key, "raw": created.raw}
            )
    return settings_page(
        request,
        TAB,
        "api/key_form.html",
        {"form": form, "team": active.team},
        status=400 if form.is_bound else 200,
    )


@not_while_impersonating
@high_security("api_keys")
@require_POST
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = ApiKey.objects.filter(pk=pk, user=request.user).first()
    if key is None:
        raise Http404
    if keys.revoke_key(user=request.user, key=key, request=request):
        messages.success(request, f"The key “{key.name}” was revoked. It stops working at once.")
    return redirect("api:keys")
