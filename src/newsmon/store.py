"""PostgreSQL loads and queries. Every write is a batched upsert on a natural key, so a rerun
or a retried task changes nothing twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg2.extensions
from psycopg2.extras import execute_values

from newsmon.config import FeedConfig
from newsmon.feeds import FeedEntry
from newsmon.urls import canonicalize_url

Connection = psycopg2.extensions.connection
_ARTICLES_LOCK = 0x6E6D5F61727469  # serializes the dedup decision of concurrent loaders


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


@dataclass
class ArticleCandidate:
    """One article ready to load, built from a feed entry, a page or a local file."""

    canonical_url: str
    url: str
    source_id: int | None
    title: str | None
    text: str
    author: str | None
    language: str
    language_prob: float | None
    language_method: str
    published_at: datetime | None
    fetched_at: datetime | None
    content_hash: str | None
    text_source: str  # page | feed | file
    extraction_status: str  # ok | page_unavailable | no_article_text | not_fetched
    extraction_note: str | None = None


@dataclass(frozen=True)
class LoadOutcome:
    """What happened to one candidate: the article it maps to and how."""

    article_id: int
    dedup: str  # new | url | exact
    updated: bool = False


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
        cur.execute("SELECT name FROM sources WHERE enabled ORDER BY name")
        return [row[0] for row in cur.fetchall()]


def get_source(conn: Connection, name: str) -> SourceRow | None:
    with conn.cursor() as cur:
        cur.execute("""SELECT id, name, url, language, etag, last_modified, consecutive_failures,
                              COALESCE((config->>'fetch_pages')::boolean, true)
                       FROM sources WHERE name = %s""", (name,))
        row = cur.fetchone()
    return SourceRow(*row) if row else None


def record_poll_success(conn: Connection, source_id: int, *, status: str, http_status: int | None,
                        etag: str | None, last_modified: str | None, items: int | None,
                        warning: str | None, keep_validators: bool = False) -> None:
    """Record a successful poll (ok, not_modified or empty) and reset the failure streak."""
    with conn.cursor() as cur:
        cur.execute("""
            UPDATE sources SET
                last_polled_at = now(), last_success_at = now(), last_status = %s,
                last_http_status = %s, last_warning = %s, consecutive_failures = 0,
                health = CASE WHEN health IN ('degraded', 'failing', 'silent') THEN 'active' ELSE health END,
                etag = CASE WHEN %s THEN etag ELSE %s END,
                last_modified = CASE WHEN %s THEN last_modified ELSE %s END,
                items_last_poll = COALESCE(%s, items_last_poll), updated_at = now()
            WHERE id = %s""",
            (status, http_status, warning, keep_validators, etag, keep_validators, last_modified,
             items, source_id))


def record_poll_failure(conn: Connection, source_id: int, *, error: str, http_status: int | None) -> None:
    """Record a failed poll on the source row; stored entries and articles are untouched."""
    with conn.cursor() as cur:
        cur.execute("""
            UPDATE sources SET
                last_polled_at = now(), last_status = 'error', last_http_status = %s,
                last_error = %s, last_error_at = now(),
                consecutive_failures = consecutive_failures + 1,
                health = CASE WHEN health IN ('paused', 'removed') THEN health
                              WHEN consecutive_failures + 1 >= 3 THEN 'failing'
                              ELSE 'degraded' END,
                updated_at = now()
            WHERE id = %s""", (http_status, error[:2000], source_id))


# -- feed entries (the work queue) ---------------------------------------------------------------

def upsert_entries(conn: Connection, source_id: int, entries: Iterable[FeedEntry]) -> int:
    """Insert new feed entries as ``pending`` work; refresh those already known. Returns how
    many were new. Duplicate guids within one feed document count once."""
    unique: dict[str, FeedEntry] = {}
    for entry in entries:
        unique.setdefault(entry.guid, entry)
    if not unique:
        return 0
    rows = [(source_id, e.guid, e.link, canonicalize_url(e.link) if e.link else None, e.title,
             e.summary, e.content, e.published_at, e.author, e.language, list(e.tags))
            for e in unique.values()]
    with conn.cursor() as cur:
        result = execute_values(cur, """
            INSERT INTO feed_entries (source_id, guid, link, canonical_url, title, summary, content,
                                      published_at, author, language, tags)
            VALUES %s
            ON CONFLICT (source_id, guid) DO UPDATE SET last_seen_at = now()
            RETURNING (xmax = 0) AS inserted""", rows,
            template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::text[])", fetch=True)
    return sum(1 for (inserted,) in result if inserted)


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
                   e.author, e.language, e.status, e.attempts
            FROM feed_entries e JOIN sources s ON s.id = e.source_id
            WHERE e.id = ANY(%s) AND e.status IN ('pending', 'retry')
            ORDER BY e.id""", (list(entry_ids),))
        return [EntryRow(*row) for row in cur.fetchall()]


def page_articles_by_url(conn: Connection, canonical_urls: Iterable[str]) -> dict[str, int]:
    """Articles already stored with page text, by canonical URL (no need to fetch them again)."""
    urls = list(set(canonical_urls))
    if not urls:
        return {}
    with conn.cursor() as cur:
        cur.execute("""SELECT canonical_url, id FROM articles
                       WHERE canonical_url = ANY(%s) AND text_source = 'page'""", (urls,))
        return dict(cur.fetchall())


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


# -- articles ------------------------------------------------------------------------------------

_ARTICLE_COLUMNS = ("canonical_url", "url", "source_id", "title", "text", "author", "language",
                    "language_prob", "language_method", "published_at", "fetched_at", "content_hash",
                    "text_source", "extraction_status", "extraction_note")


def _row(candidate: ArticleCandidate) -> tuple[Any, ...]:
    return tuple(getattr(candidate, column) for column in _ARTICLE_COLUMNS)


def load_articles(conn: Connection, candidates: Sequence[ArticleCandidate]) -> list[LoadOutcome]:
    """Deduplicate and upsert ``candidates`` (in one transaction, the caller commits).

    Same canonical URL: the stored article is kept, and upgraded when the candidate has page
    text and the stored one only had feed text, or when the page text changed. Same normalized
    text under another URL: an exact duplicate, nothing stored. Otherwise a new article.
    Returns one outcome per candidate, in order.
    """
    if not candidates:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_ARTICLES_LOCK,))
        urls = list({c.canonical_url for c in candidates})
        hashes = list({c.content_hash for c in candidates if c.content_hash})
        cur.execute("""SELECT id, canonical_url, content_hash, text_source FROM articles
                       WHERE canonical_url = ANY(%s) OR content_hash = ANY(%s)""", (urls, hashes))
        by_url: dict[str, tuple[int, str | None, str]] = {}
        by_hash: dict[str, int] = {}
        for article_id, url, chash, text_source in cur.fetchall():
            by_url[url] = (article_id, chash, text_source)
            if chash:
                by_hash[chash] = article_id

        outcomes: list[LoadOutcome | None] = [None] * len(candidates)
        to_insert: list[int] = []
        to_update: list[tuple[int, int]] = []  # (candidate index, article id)
        pending_url: dict[str, int] = {}  # canonical url -> candidate index, within this batch
        pending_hash: dict[str, int] = {}
        for index, cand in enumerate(candidates):
            if cand.canonical_url in by_url:
                article_id, stored_hash, stored_source = by_url[cand.canonical_url]
                hash_free = not cand.content_hash or by_hash.get(cand.content_hash, article_id) == article_id
                upgrade = hash_free and (
                    (cand.text_source == "page" and stored_source != "page")
                    or (cand.text_source == stored_source and cand.content_hash != stored_hash))
                if upgrade:
                    to_update.append((index, article_id))
                    if cand.content_hash:
                        by_hash[cand.content_hash] = article_id
                    by_url[cand.canonical_url] = (article_id, cand.content_hash, cand.text_source)
                outcomes[index] = LoadOutcome(article_id, "url", updated=bool(upgrade))
            elif cand.content_hash and cand.content_hash in by_hash:
                outcomes[index] = LoadOutcome(by_hash[cand.content_hash], "exact")
            elif cand.canonical_url in pending_url or cand.content_hash in pending_hash:
                continue  # resolved after the insert, against the first copy in this batch
            else:
                pending_url[cand.canonical_url] = index
                if cand.content_hash:
                    pending_hash[cand.content_hash] = index
                to_insert.append(index)

        inserted_ids: dict[int, int] = {}
        if to_insert:
            rows = execute_values(cur, f"""
                INSERT INTO articles ({", ".join(_ARTICLE_COLUMNS)}) VALUES %s
                RETURNING id, canonical_url""", [_row(candidates[i]) for i in to_insert], fetch=True)
            id_by_url = {url: article_id for article_id, url in rows}
            for index in to_insert:
                inserted_ids[index] = id_by_url[candidates[index].canonical_url]
                outcomes[index] = LoadOutcome(inserted_ids[index], "new")
        for index, cand in enumerate(candidates):
            if outcomes[index] is None:
                if cand.canonical_url in pending_url:
                    outcomes[index] = LoadOutcome(inserted_ids[pending_url[cand.canonical_url]], "url")
                else:
                    outcomes[index] = LoadOutcome(inserted_ids[pending_hash[cand.content_hash]], "exact")
        if to_update:
            execute_values(cur, """
                UPDATE articles a SET title = COALESCE(v.title, a.title), text = v.text,
                       author = COALESCE(v.author, a.author), language = v.language,
                       language_prob = v.language_prob, language_method = v.language_method,
                       published_at = COALESCE(a.published_at, v.published_at),
                       fetched_at = v.fetched_at, content_hash = v.content_hash,
                       text_source = v.text_source, extraction_status = v.extraction_status,
                       extraction_note = v.extraction_note, updated_at = now()
                FROM (VALUES %s) AS v(id, title, text, author, language, language_prob, language_method,
                                      published_at, fetched_at, content_hash, text_source,
                                      extraction_status, extraction_note)
                WHERE a.id = v.id""",
                [(article_id, c.title, c.text, c.author, c.language, c.language_prob, c.language_method,
                  c.published_at, c.fetched_at, c.content_hash, c.text_source, c.extraction_status,
                  c.extraction_note) for index, article_id in to_update for c in [candidates[index]]],
                template="(%s::bigint, %s, %s, %s, %s, %s::real, %s, %s::timestamptz, %s::timestamptz, "
                         "%s, %s, %s, %s)")
    return [o for o in outcomes if o is not None]


# -- pipeline runs -------------------------------------------------------------------------------

RUN_COUNTERS = ("feeds_polled", "feeds_not_modified", "feeds_failed", "entries_new", "pages_fetched",
                "fetch_failures", "articles_new", "articles_updated", "duplicates")


def start_run(conn: Connection, dag_id: str, run_id: str, interval_start: datetime | None,
              interval_end: datetime | None) -> None:
    with conn.cursor() as cur:
        cur.execute("""
            INSERT INTO pipeline_runs (dag_id, run_id, data_interval_start, data_interval_end)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (dag_id, run_id) DO UPDATE SET status = 'running', finished_at = NULL""",
            (dag_id, run_id, interval_start, interval_end))


def finish_run(conn: Connection, dag_id: str, run_id: str, counts: dict[str, int], status: str,
               details: dict[str, Any]) -> None:
    """Write a run's final counts; setting (not adding) them keeps a rerun of this step exact."""
    values = [int(counts.get(name, 0)) for name in RUN_COUNTERS]
    with conn.cursor() as cur:
        cur.execute(f"""
            INSERT INTO pipeline_runs (dag_id, run_id, {", ".join(RUN_COUNTERS)}, status, details,
                                       finished_at)
            VALUES (%s, %s, {", ".join(["%s"] * len(RUN_COUNTERS))}, %s, %s::jsonb, now())
            ON CONFLICT (dag_id, run_id) DO UPDATE SET
                {", ".join(f"{n} = EXCLUDED.{n}" for n in RUN_COUNTERS)},
                status = EXCLUDED.status, details = EXCLUDED.details, finished_at = now()""",
            (dag_id, run_id, *values, status, json.dumps(details, default=str)))
