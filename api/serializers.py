"""The API's JSON shapes (camelCase), for responses and for the OpenAPI document."""

from __future__ import annotations

from rest_framework import serializers

from teams.validation import HOSTNAME_MAX

from .views.base import StrictSerializer


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every error: ``{"error": {"code": ..., "message": ...}}``."""

    error = ErrorDetailSerializer()


class DomainSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    hostname = serializers.CharField()
    notes = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")


class DomainInputSerializer(StrictSerializer):
    hostname = serializers.CharField(max_length=HOSTNAME_MAX, allow_blank=False)
    notes = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    isOwner = serializers.BooleanField(source="is_owner")


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The membership id.")
    userId = serializers.IntegerField(source="user_id")
    username = serializers.CharField(source="user.username")
    fullName = serializers.CharField(source="user.full_name")
    email = serializers.EmailField(source="user.email")
    role = RoleSerializer()
    has2fa = serializers.BooleanField(source="has_2fa", default=False)
    joinedAt = serializers.DateTimeField(source="created_at")


class MemberUpdateSerializer(StrictSerializer):
    roleId = serializers.IntegerField(min_value=1, max_value=2**53)


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    createdAt = serializers.DateTimeField(source="created_at")
    action = serializers.CharField()
    outcome = serializers.CharField()
    actorId = serializers.IntegerField(source="actor_id", allow_null=True)
    userId = serializers.IntegerField(source="user_id", allow_null=True)
    ip = serializers.IPAddressField(allow_null=True)
    metadata = serializers.DictField()
