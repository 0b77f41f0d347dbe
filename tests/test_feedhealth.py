"""Feed health and polling schedule rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsmon.ingest.feedhealth import (
    FAILURE_WEIGHT,
    Schedule,
    failure_backoff,
    health_after_failure,
    health_after_success,
    is_silent,
    poll_interval,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SCHEDULE = Schedule(min_interval=600, max_interval=6 * 3600, failure_backoff_max=24 * 3600)


def test_poll_interval_follows_publication_rate_within_bounds() -> None:
    """A quarter of the usual gap between items, clamped; unknown rate polls at the minimum."""
    assert poll_interval(None, SCHEDULE) == 600
    assert poll_interval(24, SCHEDULE) == 900  # an item an hour: every 15 minutes
    assert poll_interval(1000, SCHEDULE) == 600  # very busy: never below the minimum
    assert poll_interval(0.5, SCHEDULE) == 6 * 3600  # two items a week... capped at the maximum


def test_failure_backoff_doubles_and_is_capped() -> None:
    """5 minutes, then doubling per half point of score, never above the cap, never below Retry-After."""
    assert [failure_backoff(s, SCHEDULE) for s in (0.5, 1.0, 1.5, 2.0)] == [300, 600, 1200, 2400]
    assert failure_backoff(50, SCHEDULE) == 24 * 3600
    assert failure_backoff(0.5, SCHEDULE, retry_after=3600) == 3600


def test_failure_weights_and_states() -> None:
    """Hard failures weigh double soft ones; three hard ones (or six soft) mean failing."""
    assert FAILURE_WEIGHT["hard"] == 2 * FAILURE_WEIGHT["soft"]
    assert health_after_failure("active", 1.0) == "degraded"
    assert health_after_failure("degraded", 3.0) == "failing"
    assert health_after_failure("paused", 10) == "paused"


def test_silent_feed() -> None:
    """Quiet for more than four usual gaps (and at least a day) is silent; a new item clears it."""
    assert not is_silent(NOW, NOW - timedelta(hours=20), 24)  # less than a day
    assert is_silent(NOW, NOW - timedelta(days=2), 24)
    assert not is_silent(NOW, NOW - timedelta(days=2), 0.25)  # one item every 4 days: normal
    assert is_silent(NOW, NOW - timedelta(days=17), 0.25)
    assert health_after_success("active", NOW, 0, NOW - timedelta(days=3), 24) == "silent"
    assert health_after_success("silent", NOW, 2, NOW, 24) == "active"
    assert health_after_success("failing", NOW, 0, None, None) == "active"
