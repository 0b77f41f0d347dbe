"""Housekeeping: retention deletes and clears only what it should; VACUUM runs; the summary
names the feeds that need attention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg2

from newsmon.core.config import FeedConfig, Settings
from newsmon.operations.maintenance import BUSY_TABLES, Retention, apply_retention, health_summary, vacuum
from newsmon.pipeline.tasks import plan_batches, poll_source, process_entries, sync_sources


def _rows(db: str, sql: str) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_retention_keeps_articles(db: str, fault_server) -> None:
    """Old processed entries go, newer ones lose only their feed bodies, articles all stay."""
    settings = Settings(database_url=db, host_min_interval=0, read_timeout=1, connect_timeout=1)
    feeds = [FeedConfig(name="pages", url=fault_server.url("/pages.xml?prefix=retention"),
                        allow_private=True),
             FeedConfig(name="broken", url=fault_server.url("/500"), allow_private=True)]
    for name in sync_sources(settings, feeds):
        poll_source(settings, name, force=True)
    for ids in plan_batches(settings):
        process_entries(settings, ids)
    articles = _rows(db, "SELECT count(*) FROM articles")[0][0]
    assert articles == 2
    now = datetime.now(UTC)
    old, older = now - timedelta(days=40), now - timedelta(days=200)
    with psycopg2.connect(db) as conn, conn.cursor() as cur:  # -a is still retrying its page
        cur.execute("UPDATE feed_entries SET last_seen_at = %s", (older,))
    counts = apply_retention(settings, Retention(entries_days=180, bodies_days=30), now=now)
    assert counts == {"entries_deleted": 1, "bodies_cleared": 0}  # the entry in retry is kept whole
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE feed_entries SET status = 'done', last_seen_at = %s", (old,))
    assert apply_retention(settings, Retention(180, 30), now=now) == {"entries_deleted": 0,
                                                                      "bodies_cleared": 1}
    assert _rows(db, "SELECT summary, content FROM feed_entries") == [("", "")]
    assert _rows(db, "SELECT count(*) FROM articles")[0][0] == articles
    assert vacuum(settings) == list(BUSY_TABLES)  # every busy table exists, search table included
    title, body, counts = health_summary(settings)
    assert counts.get("degraded") == 1 and "broken: degraded" in body and "1 degraded" in title
