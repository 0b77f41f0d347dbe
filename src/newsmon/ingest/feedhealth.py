"""Feed health and polling schedule (pure): how a poll's outcome changes a source's state,
when to poll it next, and when a quiet feed counts as *silent*.

- Failures are weighted by kind: *hard* (DNS, 404/410, refused) and *policy* (refused by us)
  count 1, *soft* (timeout, 5xx, 429, parse error) count 0.5. A source with a score is
  ``degraded``; from ``FAILING_SCORE`` it is ``failing``. It backs off exponentially but is
  retried at least every ``failure_backoff_max`` seconds: never dropped.
- A healthy feed is polled about four times per gap between its items (its publication rate
  over the last two weeks), within ``poll_min_interval`` and ``poll_max_interval``.
- A feed with no new item for ``SILENT_FACTOR`` times its usual gap (and at least a day) is
  ``silent``: still polled, but ops should look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FAILURE_WEIGHT = {"hard": 1.0, "policy": 1.0, "soft": 0.5}
FAILING_SCORE = 3.0
SILENT_FACTOR = 4.0
BASE_BACKOFF_SECONDS = 300
PAUSED_STATES = ("paused", "removed")


@dataclass(frozen=True)
class Schedule:
    min_interval: int = 0
    max_interval: int = 6 * 3600
    failure_backoff_max: int = 24 * 3600


def poll_interval(items_per_day: float | None, schedule: Schedule) -> int:
    """Seconds until the next poll of a healthy feed publishing ``items_per_day``."""
    if not items_per_day or items_per_day <= 0:
        return schedule.min_interval  # rate unknown yet: poll at every run
    gap = 86400.0 / items_per_day
    return int(max(schedule.min_interval, min(schedule.max_interval, gap / 4)))


def failure_backoff(score: float, schedule: Schedule, retry_after: float | None = None) -> int:
    """Seconds until a failing feed is tried again: 5 min doubling per half point of score,
    capped, and never sooner than the server's Retry-After."""
    steps = max(0, round(score * 2) - 1)
    backoff = min(schedule.failure_backoff_max, BASE_BACKOFF_SECONDS * 2 ** min(steps, 20))
    return int(max(backoff, retry_after or 0))


def health_after_failure(current: str, score: float) -> str:
    if current in PAUSED_STATES:
        return current
    return "failing" if score >= FAILING_SCORE else "degraded"


def is_silent(now: datetime, last_new_item_at: datetime | None, items_per_day: float | None) -> bool:
    """True when the feed has been quiet for much longer than usual."""
    if last_new_item_at is None or not items_per_day or items_per_day <= 0:
        return False
    usual_gap = timedelta(days=1 / items_per_day)
    return now - last_new_item_at > max(timedelta(days=1), usual_gap * SILENT_FACTOR)


def health_after_success(current: str, now: datetime, new_items: int, last_new_item_at: datetime | None,
                         items_per_day: float | None) -> str:
    if current in PAUSED_STATES:
        return current
    if new_items == 0 and is_silent(now, last_new_item_at, items_per_day):
        return "silent"
    return "active"
