"""The audit log's filters (django-filter): user, action, outcome, IP or network, dates.

Bad input (an address that is not one, a date that is not one, an action outside the
catalogue) makes the filter set invalid; the page answers 400 with the form's errors
and lists nothing, never a 500 and never the unfiltered trail.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from audit.actions import Action
from audit.models import AuditEvent


def parse_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address (a /32 or /128) or a CIDR network; ValueError otherwise."""
    text = (value or "").strip()
    if not text or len(text) > 64:
        raise ValueError("empty or too long")
    return ipaddress.ip_network(text, strict=False)


class NetworkField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return parse_network(value)
        except ValueError:
            raise forms.ValidationError(
                "Enter an IP address (203.0.113.7, 2001:db8::1) or a network (203.0.113.0/24)."
            ) from None


class NetworkFilter(django_filters.Filter):
    field_class = NetworkField

    def filter(self, qs, value):
        if value is None:
            return qs
        if value.num_addresses == 1:
            return qs.filter(ip=str(value.network_address))
        return qs.filter(ip__in_network=str(value))


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


class AuditEventFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(
        method="filter_user",
        label="User",
        max_length=254,
        help_text="Username or email: events the account did or that happened to it.",
    )
    action = django_filters.ChoiceFilter(choices=Action.choices, empty_label="Any action")
    outcome = django_filters.ChoiceFilter(
        choices=AuditEvent.Outcome.choices, empty_label="Any outcome"
    )
    ip = NetworkFilter(label="IP or network", help_text="203.0.113.7 or 203.0.113.0/24")
    since = django_filters.DateFilter(
        method="filter_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="filter_until", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields = ["user", "action", "outcome", "ip", "since", "until"]

    def filter_user(self, queryset, name, value):
        login = value.strip()
        if not login:
            return queryset
        User = get_user_model()
        ids = list(
            User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login)).values_list(
                "pk", flat=True
            )
        )
        return queryset.filter(Q(user_id__in=ids) | Q(actor_id__in=ids))

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_until(self, queryset, name, value):
        # "To" includes the whole day.
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))
