"""Lenient date parsing for the many ways feeds and pages write a publication time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_datetime(value: str | time.struct_time | datetime | None) -> datetime | None:
    """Parse ISO 8601, RFC 822 or a ``time.struct_time`` (UTC, as feedparser gives) into an
    aware datetime; a naive value is taken as UTC. Unparsable or absurd dates give None."""
    if value is None or value == "":
        return None
    result: datetime | None = None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, time.struct_time):
        try:
            result = datetime(*value[:6], tzinfo=UTC)
        except (ValueError, OverflowError):
            return None
    else:
        text = value.strip()
        try:
            result = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                result = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if result.tzinfo is None:
        result = result.replace(tzinfo=UTC)
    if not 1990 <= result.year <= 2100:
        return None
    return result
