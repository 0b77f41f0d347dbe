"""Lenient date parsing for the many ways feeds and pages write a publication time."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
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


_DURATION_RE = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """A command line's ``--since``/``--until``: YYYY-MM-DD, an ISO time (UTC when naive), or a
    duration back from now (30m, 24h, 7d, 2w). Raises ValueError with the accepted forms."""
    text = value.strip()
    match = _DURATION_RE.fullmatch(text)
    if match:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected YYYY-MM-DD, an ISO time or a duration like 24h, 7d, "
                         f"got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def since_argument(value: str) -> datetime:
    """:func:`parse_since` as an argparse ``type``: errors become usage errors."""
    import argparse

    try:
        return parse_since(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
