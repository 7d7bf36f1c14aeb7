"""Where and from what a request came: an abstract base of the records that keep it."""

from __future__ import annotations

from django.db import models


class Place(models.Model):
    """Where and from what a request came (filled once, from the IP and User-Agent)."""

    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True, help_text="The full User-Agent header.")
    browser = models.CharField(max_length=100, blank=True)
    os = models.CharField("operating system", max_length=100, blank=True)
    device_type = models.CharField(max_length=10, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def device_label(self) -> str:
        if self.browser and self.os:
            return f"{self.browser} on {self.os}"
        return self.browser or self.os or "Unknown browser"

    @property
    def location_label(self) -> str:
        return ", ".join(p for p in (self.city, self.country) if p) or "Unknown"
