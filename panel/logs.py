"""Log formatting shared by the settings' LOGGING (imported before the apps are ready,
so it imports nothing of the project)."""

from __future__ import annotations

import logging
import time


class UTCFormatter(logging.Formatter):
    """ISO 8601 times in UTC with the offset (``2026-03-10T08:30:00+0000``), which fail2ban's
    date detector reads without guessing the server's time zone."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S+0000"
    default_msec_format = None

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return time.strftime(datefmt or self.default_time_format, self.converter(record.created))
