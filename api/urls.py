from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import auth, keys, resources

app_name = "api"


def public(view):
    return login_not_required(view)


v1 = "api/v1/"

urlpatterns = [
    # Profile > Settings > API Keys
    path("settings/api-keys/", keys.key_list, name="keys"),
    path("settings/api-keys/new/", keys.key_create, name="key_create"),
    path("settings/api-keys/<int:pk>/revoke/", keys.key_revoke, name="key_revoke"),
    # The JSON API
    path(v1 + "auth/login", auth.Login.as_view(), name="login"),
    path(v1 + "auth/login/2fa", auth.LoginTwoFactor.as_view(), name="login_2fa"),
    path(v1 + "auth/login/device", auth.LoginDevice.as_view(), name="login_device"),
    path(v1 + "auth/token/refresh", auth.TokenRefresh.as_view(), name="token_refresh"),
    path(v1 + "auth/logout", auth.Logout.as_view(), name="logout"),
    path(v1 + "auth/2fa/setup", auth.TwoFactorSetup.as_view(), name="2fa_setup"),
    path(
        v1 + "auth/2fa/verify-enrollment",
        auth.TwoFactorVerifyEnrollment.as_view(),
        name="2fa_verify_enrollment",
    ),
    path(v1 + "auth/2fa/disable", auth.TwoFactorDisable.as_view(), name="2fa_disable"),
    path(
        v1 + "auth/2fa/regenerate-backup-codes",
        auth.TwoFactorRegenerate.as_view(),
        name="2fa_regenerate",
    ),
    path(v1 + "domains", resources.DomainList.as_view(), name="domains"),
    path(v1 + "domains/<str:domain_id>", resources.DomainDetail.as_view(), name="domain"),
    path(v1 + "members", resources.MemberList.as_view(), name="members"),
    path(v1 + "members/<str:membership_id>", resources.MemberDetail.as_view(), name="member"),
    path(v1 + "audit", resources.AuditList.as_view(), name="audit"),
    # The OpenAPI document and Swagger UI (from drf-spectacular-sidecar's static files)
    path(
        "api/schema/",
        public(SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[])),
        name="schema",
    ),
    path(
        "api/docs/",
        public(
            # The split view serves its start-up script as a file (CSP: no inline script).
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", authentication_classes=[], permission_classes=[]
            )
        ),
        name="docs",
    ),
]
