"""Acting as another user, request by request.

When the session holds an impersonation (``security.impersonation.state``), the
administrator signed in to it becomes ``request.impersonator`` and the user they act as
becomes ``request.user`` for the rest of the request. For that request every audit event
names both (``audit.services.acting_as``) and no notice goes to the user
(``accounts.emails.notices_withheld_from``): the administrator's actions are not the
user's. A page declared ``@not_while_impersonating`` answers 403 with an explanation.

An impersonation past its 30 minutes, or one the rules no longer allow (the user was
disabled or made a superuser), ends here, audited, and the browser goes back to the
administrator's own dashboard: the request it carried is not run as anyone (sign-out
still goes through).

Place after the session-tracking middleware (which judges the administrator's own session)
and before ``PolicyMiddleware`` and ``TeamMiddleware`` (which judge the user acted as).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.emails import notices_withheld_from
from audit.services import acting_as
from security.exceptions import NotWhileImpersonating
from security.impersonation import services, state
from security.impersonation.services import How


class ImpersonationMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.impersonator = None
        request.impersonation = None
        found = state.read(request)
        if found is None:
            return self.get_response(request)
        admin = request.user
        if not admin.is_authenticated or admin.pk != found.impersonator_id:
            # Not the session it was started in (signed out meanwhile): forget it.
            state.clear(request)
            return self.get_response(request)
        target = get_user_model().objects.filter(pk=found.user_id).first()
        ending = None
        if found.expired():
            ending = How.EXPIRED
        elif target is None or not services.may_impersonate(hijacker=admin, hijacked=target):
            ending = How.NOT_ALLOWED
        if ending is not None:
            services.end(request=request, how=ending)
            name = target.get_full_name() if target is not None else "the user"
            if ending == How.EXPIRED:
                messages.info(
                    request,
                    f"Your impersonation of {name} ended after "
                    f"{state.LIMIT_SECONDS // 60} minutes. You are yourself again.",
                )
            else:
                messages.warning(
                    request, f"You can no longer act as {name}. You are yourself again."
                )
            if request.path_info == reverse("security:logout"):
                return self.get_response(request)
            return redirect("dashboard")
        # The administrator's session passed its own checks (signed in, 2FA verified,
        # not timed out): the user acted as needs no second factor of their own here.
        target.is_verified = lambda: True
        target.otp_device = None
        request.impersonator = admin
        request.impersonation = Acting(found, target=target, impersonator=admin)
        request.user = target
        with acting_as(admin), notices_withheld_from(target.email):
            return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        declared = getattr(view_func, "not_while_impersonating", False)
        if getattr(request, "impersonator", None) is not None and declared:
            refusal = NotWhileImpersonating(declared if isinstance(declared, str) else "")
            return render(
                request,
                "error.html",
                {"status": refusal.status, "title": refusal.title, "message": refusal.message},
                status=refusal.status,
            )
        return None


class Acting:
    """What the banner shows: whom, why, and how long is left."""

    def __init__(self, found: state.Impersonation, *, target, impersonator) -> None:
        self.found = found
        self.user = target
        self.impersonator = impersonator
        self.reason = found.reason
        self.ends_at = found.ends_at

    @property
    def minutes_left(self) -> int:
        return self.found.minutes_left
