"""robots.txt for article pages: fetched once per host, cached in PostgreSQL (``host_robots``)
for ``NEWSMON_ROBOTS_TTL`` seconds and in memory for the batch, parsed with protego.

Following RFC 9309: a 4xx robots.txt allows everything; a 5xx or an unreachable one disallows
everything (retried after a short delay, not the full TTL)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from protego import Protego

from newsmon.core.config import Settings
from newsmon.core.db import transaction
from newsmon.core.errors import FetchError
from newsmon.ingest.downloads import Fetcher
from newsmon.ingest.netpolicy import AllowPrivate, host_key

log = logging.getLogger(__name__)
UNREACHABLE_RETRY = timedelta(hours=1)
_ALLOW_ALL = Protego.parse("")
_DISALLOW_ALL = Protego.parse("User-agent: *\nDisallow: /\n")


class RobotsPolicy:
    """Answers "may this page be fetched?" for one batch; thread-safe."""

    def __init__(self, settings: Settings, fetcher: Fetcher) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.agent = settings.user_agent.split("/", 1)[0] or "newsmon"
        self._rules: dict[str, Protego] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str, allow_private: AllowPrivate = False) -> bool:
        host = host_key(url)
        with self._lock:
            rules = self._rules.get(host)
        if rules is None:
            rules = self._load(host, allow_private)
            with self._lock:
                self._rules[host] = rules
        return bool(rules.can_fetch(url, self.agent))

    def _load(self, host: str, allow_private: AllowPrivate) -> Protego:
        now = datetime.now(UTC)
        with transaction(self.settings.database_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT status, body, fetched_at FROM host_robots WHERE host = %s", (host,))
            row = cur.fetchone()
        if row is not None:
            status, body, fetched_at = row
            ttl = timedelta(seconds=self.settings.robots_ttl)
            fresh = ttl if status and status < 500 else UNREACHABLE_RETRY
            if now - fetched_at < fresh:
                return _rules(status, body)
        status, body = self._fetch(host, allow_private)
        with transaction(self.settings.database_url) as conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO host_robots (host, status, body, fetched_at) VALUES (%s, %s, %s, %s)
                           ON CONFLICT (host) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body,
                                                            fetched_at = EXCLUDED.fetched_at""",
                        (host, status, body, now))
        return _rules(status, body)

    def _fetch(self, host: str, allow_private: AllowPrivate) -> tuple[int | None, str]:
        try:
            response = self.fetcher.fetch(host + "/robots.txt", accept="text/plain, */*;q=0.5",
                                          allow_private=allow_private)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return exc.status, ""
            log.warning("robots.txt of %s unreachable (%s): its pages are not fetched for now", host, exc)
            return exc.status, ""
        return response.status, response.body[:500_000].decode("utf-8", errors="replace")


def _rules(status: int | None, body: str) -> Protego:
    if status is None or status >= 500:
        return _DISALLOW_ALL
    if status >= 400:
        return _ALLOW_ALL
    try:
        return Protego.parse(body)
    except Exception:  # protego is lenient; a crash here must not stop a batch
        return _ALLOW_ALL
