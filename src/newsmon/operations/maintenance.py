"""Housekeeping (DAG ``news_maintenance``, daily): retention of raw feed entries and of the feed
bodies they carry (articles are always kept), VACUUM (ANALYZE) of the busy tables, and a
feed-health summary for ops."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newsmon.core.config import Settings
from newsmon.core.db import connect, transaction

log = logging.getLogger(__name__)
BUSY_TABLES = ("articles", "feed_entries", "sources", "article_entities", "article_topics",
               "article_keywords", "article_bands", "article_fingerprints", "article_search",
               "alert_deliveries")


@dataclass(frozen=True)
class Retention:
    entries_days: int = 180
    """Feed entries (the raw items) older than this, already processed, are deleted."""
    bodies_days: int = 30
    """The summary and content the feed carried are cleared from older processed entries."""


def apply_retention(settings: Settings, retention: Retention, now: datetime | None = None) -> dict[str, int]:
    """Delete old processed feed entries and clear old feed bodies; returns the counts."""
    now = now or datetime.now(UTC)
    with transaction(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("""DELETE FROM feed_entries WHERE status IN ('done', 'failed') AND last_seen_at < %s""",
                    (now - timedelta(days=retention.entries_days),))
        deleted = cur.rowcount
        cur.execute("""UPDATE feed_entries SET summary = '', content = ''
                       WHERE status IN ('done', 'failed') AND last_seen_at < %s
                         AND (summary <> '' OR content <> '')""",
                    (now - timedelta(days=retention.bodies_days),))
        cleared = cur.rowcount
    log.info("retention: %d feed entries deleted, %d feed bodies cleared", deleted, cleared)
    return {"entries_deleted": deleted, "bodies_cleared": cleared}


def vacuum(settings: Settings, tables: tuple[str, ...] = BUSY_TABLES) -> list[str]:
    """VACUUM (ANALYZE) each busy table (outside a transaction, as VACUUM requires)."""
    from psycopg2 import sql

    conn = connect(settings.database_url)
    conn.autocommit = True
    done = []
    try:
        with conn.cursor() as cur:
            for table in tables:
                cur.execute("SELECT to_regclass(%s)", (table,))
                if cur.fetchone()[0] is None:
                    continue
                cur.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
                done.append(table)
    finally:
        conn.close()
    return done


def health_summary(settings: Settings) -> tuple[str, str, dict[str, int]]:
    """A one-message summary of feed health: (title, body, counts per state)."""
    with transaction(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT health, count(*) FROM sources WHERE enabled GROUP BY health ORDER BY health")
        counts = dict(cur.fetchall())
        cur.execute("""SELECT name, health, COALESCE(last_error, '') FROM sources
                       WHERE enabled AND health IN ('failing', 'silent', 'degraded') ORDER BY health, name
                       LIMIT 30""")
        problems = cur.fetchall()
    title = "newsmon: feed health — " + ", ".join(f"{n} {state}" for state, n in counts.items())
    lines = [f"{name}: {health}" + (f" ({error[:160]})" if error else "") for name, health, error in problems]
    body = "\n".join(lines) if lines else "Every enabled feed is healthy."
    return title, body, counts
