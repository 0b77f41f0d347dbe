"""The ingest stage's SQL: sources (feed state, health, politeness) and feed entries, the work
queue. Every write is a batched upsert on a natural key, so a rerun or a retried task changes
nothing twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extras import execute_values

from newsmon.core.config import FeedConfig
from newsmon.core.db import Connection
from newsmon.ingest.feeds import FeedEntry
from newsmon.ingest.urls import canonicalize_url


@dataclass(frozen=True)
class SourceRow:
    id: int
    name: str
    url: str
    language: str | None
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    fetch_pages: bool
    kind: str = "auto"
    health: str = "active"
    failure_score: float = 0.0
    next_poll_at: datetime | None = None
    last_new_item_at: datetime | None = None
    items_per_day: float | None = None
    body_hash: str | None = None
    polls_since_full: int = 0
    validators_trusted: bool = True
    allow_private: Any = False  # bool or list of networks (see netpolicy.AllowPrivate)


@dataclass(frozen=True)
class EntryRow:
    """A queued feed entry with what processing needs from its source."""

    id: int
    source_id: int
    source_name: str
    source_language: str | None
    fetch_pages: bool
    guid: str
    link: str | None
    canonical_url: str | None
    title: str | None
    summary: str
    content: str
    published_at: datetime | None
    author: str | None
    language: str | None
    status: str
    attempts: int
    allow_private: Any = False  # bool or list of networks (see netpolicy.AllowPrivate)
    robots: bool = True
    version: int | None = None
    pub_status: str = "usable"


# -- sources -----------------------------------------------------------------------------------

def sync_sources(conn: Connection, feeds: Sequence[FeedConfig]) -> list[str]:
    """Upsert the configured feeds into ``sources`` and return the names of enabled ones.
    A source that left the config is kept (its articles stay) but marked ``removed``."""
    with conn.cursor() as cur:
        if feeds:
            execute_values(cur, """
                INSERT INTO sources (name, url, kind, language, enabled, tags, config, health)
                VALUES %s
                ON CONFLICT (name) DO UPDATE SET
                    url = EXCLUDED.url, kind = EXCLUDED.kind, language = EXCLUDED.language,
                    enabled = EXCLUDED.enabled, tags = EXCLUDED.tags, config = EXCLUDED.config,
                    etag = CASE WHEN sources.url = EXCLUDED.url THEN sources.etag END,
                    last_modified = CASE WHEN sources.url = EXCLUDED.url THEN sources.last_modified END,
                    health = CASE WHEN NOT EXCLUDED.enabled THEN 'paused'
                                  WHEN sources.health IN ('paused', 'removed') THEN 'active'
                                  ELSE sources.health END,
                    updated_at = now()
                WHERE (sources.url, sources.kind, sources.language, sources.enabled, sources.tags,
                       sources.config, sources.health)
                      IS DISTINCT FROM (EXCLUDED.url, EXCLUDED.kind, EXCLUDED.language,
                       EXCLUDED.enabled, EXCLUDED.tags, EXCLUDED.config,
                       CASE WHEN NOT EXCLUDED.enabled THEN 'paused'
                            WHEN sources.health IN ('paused', 'removed') THEN 'active'
                            ELSE sources.health END)
                """, [(f.name, f.url, f.kind, f.language, f.enabled, list(f.tags),
                       json.dumps(f.as_config()), "active" if f.enabled else "paused") for f in feeds],
                template="(%s, %s, %s, %s, %s, %s::text[], %s::jsonb, %s)")
        cur.execute("""UPDATE sources SET enabled = false, health = 'removed', updated_at = now()
                       WHERE NOT (name = ANY(%s)) AND health <> 'removed'""", ([f.name for f in feeds],))
        cur.execute("SELECT name, url FROM sources WHERE enabled ORDER BY name")
        return interleave_by_host(cur.fetchall())


def interleave_by_host(sources: Sequence[tuple[str, str]]) -> list[str]:
    """Source names ordered round-robin by host, so that parallel pollers work on different
    hosts instead of queueing behind one host's politeness delay."""
    from urllib.parse import urlsplit

    by_host: dict[str, list[str]] = {}
    for name, url in sources:
        by_host.setdefault((urlsplit(url).netloc or "").lower(), []).append(name)
    queues = list(by_host.values())
    ordered: list[str] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[depth] for q in queues if depth < len(q))
    return ordered


def get_source(conn: Connection, name: str) -> SourceRow | None:
    with conn.cursor() as cur:
        cur.execute("""SELECT id, name, url, language, etag, last_modified, consecutive_failures,
                              COALESCE((config->>'fetch_pages')::boolean, true), kind, health,
                              failure_score, next_poll_at, last_new_item_at, items_per_day, body_hash,
                              polls_since_full, validators_trusted,
                              COALESCE(config->'allow_private', 'false'::jsonb)
                       FROM sources WHERE name = %s""", (name,))
        row = cur.fetchone()
    return SourceRow(*row) if row else None


_SOURCE_STATE_COLUMNS = {
    "last_polled_at", "last_success_at", "last_status", "last_http_status", "last_error", "last_error_at",
    "last_error_kind", "last_warning", "consecutive_failures", "failure_score", "health", "etag",
    "last_modified", "items_last_poll", "next_poll_at", "poll_interval_seconds", "last_new_item_at",
    "items_per_day", "body_hash", "polls_since_full", "validators_trusted", "validators_note",
}


def update_source_state(conn: Connection, source_id: int, state: dict[str, Any]) -> None:
    """Write the columns of ``state`` on the source row; ``health_changed_at`` follows health."""
    unknown = set(state) - _SOURCE_STATE_COLUMNS
    if unknown:
        raise ValueError(f"not source state columns: {sorted(unknown)}")
    columns = sorted(state)
    assignments = ", ".join(f"{c} = %({c})s" for c in columns)
    changed = ("health_changed_at = CASE WHEN health IS DISTINCT FROM %(health)s THEN now() "
               "ELSE health_changed_at END, " if "health" in state else "")
    with conn.cursor() as cur:
        cur.execute(f"UPDATE sources SET {changed}{assignments}, updated_at = now() WHERE id = %(_id)s",
                    {**state, "_id": source_id})


def publication_rate(conn: Connection, source_id: int, now: datetime, days: int = 14) -> float | None:
    """Items per day the source published over the last ``days`` (None with fewer than 2 items)."""
    with conn.cursor() as cur:
        cur.execute("""SELECT count(*), min(COALESCE(published_at, first_seen_at)) FROM feed_entries
                       WHERE source_id = %s
                         AND COALESCE(published_at, first_seen_at) > %s - make_interval(days => %s)
                         AND COALESCE(published_at, first_seen_at) <= %s + interval '1 day'""",
                    (source_id, now, days, now))
        count, oldest = cur.fetchone()
    if count < 2 or oldest is None:
        return None
    span_days = max(1.0, (now - oldest).total_seconds() / 86400)
    return round(count / span_days, 3)


# -- feed entries (the work queue) ---------------------------------------------------------------

def upsert_entries(conn: Connection, source_id: int, entries: Iterable[FeedEntry]) -> tuple[int, int]:
    """Insert new feed entries as ``pending`` work; refresh those already known. An agency item
    seen again with a higher version or a new status (canceled, withheld) replaces the stored
    one and is queued again. Returns (new, re-queued). Duplicate guids in one document count once
    (the highest version wins)."""
    unique: dict[str, FeedEntry] = {}
    for entry in entries:
        kept = unique.get(entry.guid)
        if kept is None or (entry.version or 0) > (kept.version or 0):
            unique[entry.guid] = entry
    if not unique:
        return 0, 0
    rows = [(source_id, e.guid, e.link, canonicalize_url(e.link) if e.link else None, e.title,
             e.summary, e.content, e.published_at, e.author, e.language, list(e.tags), e.version,
             e.status, e.dateline, list(e.subjects), list(e.keywords))
            for e in unique.values()]
    replaced = ("(COALESCE(EXCLUDED.version, 0) > COALESCE(e.version, 0) "
                "OR EXCLUDED.pub_status <> e.pub_status)")
    updates = ",\n".join(f"{c} = CASE WHEN {replaced} THEN EXCLUDED.{c} ELSE e.{c} END"
                         for c in ("link", "canonical_url", "title", "summary", "content", "version",
                                   "pub_status", "subjects", "keywords"))
    with conn.cursor() as cur:
        result = execute_values(cur, f"""
            INSERT INTO feed_entries AS e (source_id, guid, link, canonical_url, title, summary, content,
                                      published_at, author, language, tags, version, pub_status,
                                      dateline, subjects, keywords)
            VALUES %s
            ON CONFLICT (source_id, guid) DO UPDATE SET
                last_seen_at = now(), {updates},
                status = CASE WHEN {replaced} THEN 'pending' ELSE e.status END,
                attempts = CASE WHEN {replaced} THEN 0 ELSE e.attempts END
            RETURNING (xmax = 0) AS inserted,
                      (e.status = 'pending' AND e.processed_at IS NOT NULL) AS requeued""", rows,
            template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::text[], %s, %s, %s, %s::text[], "
                     "%s::text[])", fetch=True)
    new = sum(1 for inserted, _ in result if inserted)
    return new, sum(1 for inserted, requeued in result if not inserted and requeued)


def queued_entry_ids(conn: Connection, limit: int | None = None) -> list[int]:
    """Ids of entries waiting for processing (new, or retrying a transient page failure)."""
    with conn.cursor() as cur:
        cur.execute("""SELECT id FROM feed_entries WHERE status IN ('pending', 'retry')
                       ORDER BY id LIMIT %s""", (limit,))
        return [row[0] for row in cur.fetchall()]


def load_queued_entries(conn: Connection, entry_ids: Sequence[int]) -> list[EntryRow]:
    """The entries among ``entry_ids`` still waiting (a retried task skips finished ones)."""
    with conn.cursor() as cur:
        cur.execute("""
            SELECT e.id, e.source_id, s.name, s.language, COALESCE((s.config->>'fetch_pages')::boolean, true),
                   e.guid, e.link, e.canonical_url, e.title, e.summary, e.content, e.published_at,
                   e.author, e.language, e.status, e.attempts,
                   COALESCE(s.config->'allow_private', 'false'::jsonb),
                   COALESCE((s.config->>'robots')::boolean, true), e.version, e.pub_status
            FROM feed_entries e JOIN sources s ON s.id = e.source_id
            WHERE e.id = ANY(%s) AND e.status IN ('pending', 'retry')
            ORDER BY e.id""", (list(entry_ids),))
        return [EntryRow(*row) for row in cur.fetchall()]


def finish_entries(conn: Connection, updates: Sequence[tuple[int, str, int | None, str | None, str | None,
                                                             bool]]) -> None:
    """Close entries: (id, status, article_id, dedup, error, counts_as_attempt)."""
    if not updates:
        return
    with conn.cursor() as cur:
        execute_values(cur, """
            UPDATE feed_entries e SET status = v.status, article_id = v.article_id, dedup = v.dedup,
                   last_error = v.error, processed_at = now(),
                   attempts = e.attempts + CASE WHEN v.attempt THEN 1 ELSE 0 END
            FROM (VALUES %s) AS v(id, status, article_id, dedup, error, attempt)
            WHERE e.id = v.id""", updates,
            template="(%s::bigint, %s::text, %s::bigint, %s::text, %s::text, %s::boolean)")
