"""What the OpenAPI document says about authentication and errors: both Bearer schemes
(API key, access token) and the error body on every 4xx."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "pnl_<43 characters>",
            "description": (
                "An API key from Settings > API Keys: acts in its team, within its scopes "
                "and its owner's current permissions. Never in a query string."
            ),
        }


class AccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionTokenAuthentication"
    name = "accessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "An access token from POST /api/v1/auth/login (15 minutes; refresh with "
                "POST /api/v1/auth/token/refresh). Tied to a session listed in Settings > "
                "Sessions: revoking it ends the token."
            ),
        }


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the error body as a component, on every operation's 4xx."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "example": "not_found"},
                    "message": {"type": "string"},
                },
            }
        },
    }
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in ("400", "401", "403", "404", "405", "406", "409", "415", "429"):
                responses.setdefault(status, error)
            responses.setdefault("5XX", error)
    return result
