"""The passkey pages: Security tab > Passkeys and security keys (add, rename, remove),
and the JSON options the passkey script asks for before the browser's prompt.

Every page works without JavaScript: it says that passkeys need it, and the other ways
(password, authenticator app, backup codes) keep working. The script
(``static/panel/js/passkeys.js``) fetches the options, runs the browser's prompt and posts
its answer with an ordinary form, so the answer is a page, never a JSON error.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.decorators import not_while_impersonating
from accounts.tabs import settings_page
from panel import ratelimits
from security.exceptions import PasskeyRefused
from security.passkeys import ceremony, services as passkeys
from security.passkeys.forms import CredentialForm, PasskeyNameForm
from security.stepup import state as stepup_state
from security.stepup.decorators import stepup_required

CANCELLED = "The passkey prompt was closed or timed out. Nothing was changed."


def _own(request: HttpRequest, pk: int):
    return get_object_or_404(passkeys.passkeys_of(request.user), pk=pk)


@not_while_impersonating
@require_http_methods(["GET", "POST"])
@ratelimit(
    key="user",
    rate=ratelimits.PASSKEY_MANAGE_PER_USER,
    method="POST",
    group="passkey-manage",
    block=True,
)
@stepup_required
def passkey_add(request: HttpRequest) -> HttpResponse:
    """Add a passkey: a name, then the browser's prompt (the script), then this page
    checks the answer. Needs a step-up within 15 minutes."""
    name_form = PasskeyNameForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        answer = CredentialForm(request.POST)
        if not answer.is_valid() or answer.cleaned_data["credential"] is None:
            passkeys.clear_ceremony(request)
            if answer.is_valid() and answer.cleaned_data["error"]:
                messages.info(request, CANCELLED)
                return redirect("security:passkey_add")
            else:
                name_form.add_error(None, "Your browser did not send a passkey. Please try again.")
        else:
            try:
                credential = passkeys.register_complete(
                    request=request, user=request.user, data=answer.cleaned_data["credential"]
                )
            except PasskeyRefused as refusal:
                name_form.add_error(None, refusal.message)
            else:
                messages.success(request, f"Passkey “{credential.name}” added.")
                return redirect("accounts:settings_security")
    return settings_page(
        request,
        "security",
        "security/passkeys/passkey_add.html",
        {"form": name_form, "available": ceremony.available()},
        status=status,
    )


@not_while_impersonating
@require_POST
@ratelimit(
    key="user",
    rate=ratelimits.PASSKEY_MANAGE_PER_USER,
    method="POST",
    group="passkey-manage",
    block=True,
)
def passkey_add_options(request: HttpRequest) -> HttpResponse:
    """JSON: the options of ``navigator.credentials.create()`` for a named passkey."""
    if not stepup_state.is_recent(request):
        return JsonResponse({"error": "Confirm it's you first: reload the page."}, status=403)
    if not ceremony.available():
        return JsonResponse({"error": "Passkeys are not available on this site."}, status=400)
    form = PasskeyNameForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": "Give the passkey a name."}, status=400)
    options = passkeys.register_begin(
        request=request, user=request.user, name=form.cleaned_data["name"]
    )
    return JsonResponse(options)


@not_while_impersonating
@require_http_methods(["GET", "POST"])
def passkey_rename(request: HttpRequest, pk: int) -> HttpResponse:
    credential = _own(request, pk)
    form = PasskeyNameForm(
        request.POST if request.method == "POST" else None, initial={"name": credential.name}
    )
    if request.method == "POST" and form.is_valid():
        passkeys.rename(
            request=request,
            user=request.user,
            credential=credential,
            name=form.cleaned_data["name"],
        )
        messages.success(request, "Passkey renamed.")
        return redirect("accounts:settings_security")
    return settings_page(
        request,
        "security",
        "security/passkeys/passkey_rename.html",
        {"form": form, "passkey": credential},
        status=400 if request.method == "POST" else 200,
    )


@not_while_impersonating
@require_http_methods(["GET", "POST"])
def passkey_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then remove a passkey. Needs a step-up within 15 minutes; removing the
    last second factor turns two-factor authentication off (said so before, emailed)."""
    credential = _own(request, pk)
    stepup_state.require_recent(request)
    last = passkeys.is_last_factor(request.user, credential)
    if request.method == "POST":
        passkeys.remove(request=request, user=request.user, credential=credential)
        messages.success(
            request,
            "Passkey removed. Two-factor authentication is off." if last else "Passkey removed.",
        )
        return redirect("accounts:settings_security")
    return settings_page(
        request,
        "security",
        "security/passkeys/passkey_remove.html",
        {"passkey": credential, "kind": passkeys.kind_of(credential), "last": last},
    )
