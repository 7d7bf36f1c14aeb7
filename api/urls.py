from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import keys, resources

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
