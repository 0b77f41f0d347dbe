"""Error types shared by every stage.

Following dlt's split, a failure is either *transient* (retrying later may succeed: timeouts,
5xx, 429, a lost database connection) or *permanent* (retrying is pointless: 404, unparsable
content, a URL refused by policy). Soft failures are recorded on the row they concern and the
run goes on; only database failures abort a task so that Airflow retries it.
"""

from __future__ import annotations


class NewsmonError(Exception):
    """Base class for every error newsmon raises on purpose."""


class ConfigError(NewsmonError):
    """A configuration file is missing, unparsable or invalid.

    The message always names the file, and where possible the entry and the field.
    """


class FetchError(NewsmonError):
    """An HTTP fetch failed. ``transient`` tells whether a later retry may succeed; ``kind`` is
    ``hard`` (DNS failure, 404/410, connection refused), ``soft`` (timeout, 5xx, 429, reset) or
    ``policy`` (refused by us: SSRF guard, robots.txt, scheme, size); ``retry_after`` holds the
    server's Retry-After in seconds when it sent one."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None,
                 kind: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.kind = kind or ("soft" if transient else "hard")
        self.retry_after = retry_after


class MigrationError(NewsmonError):
    """A migration file is malformed, or the database history disagrees with ``sql/``."""
