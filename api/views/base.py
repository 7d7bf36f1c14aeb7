"""The base of every API view: public to Django's LoginRequiredMiddleware (the API
authenticates itself, with a key or a token, never the session cookie), CSRF-exempt for
the same reason, and JSON in, JSON out."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.views import APIView

from ..permissions import TeamScopePermission


class ApiView(APIView):
    permission_classes = [TeamScopePermission]

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.login_required = False  # what @login_not_required sets
        return view


class PublicApiView(ApiView):
    """Sign-in endpoints: no credential yet."""

    authentication_classes: list = []
    permission_classes: list = []


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a typo must not be silently ignored) and NUL
    characters in any string."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["The body must be a JSON object."]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        for name, value in data.items():
            if isinstance(self.fields[name], serializers.CharField) and not isinstance(value, str):
                # DRF would turn 12 into "12": a wrong type is refused, not guessed.
                raise serializers.ValidationError({name: ["Must be a string."]})
            if isinstance(value, str) and "\x00" in value:
                raise serializers.ValidationError({name: ["NUL characters are not allowed."]})
        return super().to_internal_value(data)
