"""Tracked sessions, trusted devices, suspicious sign-ins."""

__all__: list[str] = []
