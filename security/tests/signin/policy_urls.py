"""Views that declare a policy or raise a typed refusal, for test_policy_middleware."""

from django.http import HttpResponse
from django.urls import include, path

from security.exceptions import DecisionRefused, Locked, StepUpRequired
from security.lockout.policy import LockStatus
from security.stepup.decorators import stepup_required


@stepup_required
def needs_stepup(request):
    return HttpResponse("the sensitive page")


def raises_stepup(request):
    raise StepUpRequired


def raises_locked(request):
    raise Locked(LockStatus(True, 300))


def raises_refusal(request):
    raise DecisionRefused("This sign-in was already decided.")


urlpatterns = [
    path("test/needs-stepup/", needs_stepup),
    path("test/raises-stepup/", raises_stepup),
    path("test/raises-locked/", raises_locked),
    path("test/raises-refusal/", raises_refusal),
    path("", include("panel.urls")),
]
