"""Durations in words, for pages and emails."""

from __future__ import annotations


def humanize_seconds(seconds: int) -> str:
    seconds = max(1, int(seconds))
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = -(-minutes // 60)
    return f"{hours} hours"
