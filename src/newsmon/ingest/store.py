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
from newsmon.stories import Fingerprint, Thresholds, compare
from newsmon.urls import canonicalize_url

Connection = psycopg2.extensions.connection
_ARTICLES_LOCK = 0x6E6D5F61727469  # serializes the dedup decision of concurrent loaders
_ENTITIES_LOCK = 0x6E6D5F656E7469  # serializes the gazetteer sync of concurrent tag shards


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
    fingerprint: Fingerprint | None = None  # near-duplicate signature of ``text``
    pub_status: str = "usable"  # usable | canceled | withheld (agency items)
    agency_guid: str | None = None
    agency_version: int | None = None


@dataclass(frozen=True)
class LoadOutcome:
    """What happened to one candidate: the article it maps to and how."""

    article_id: int
    dedup: str  # new | url | exact
    updated: bool = False  # the stored article's text was replaced (feed -> page, or a new version)
    new_version: bool = False  # the text changed under the same URL: the old one is in article_versions
    story_id: int | None = None
    story_new: bool = False  # this candidate started a new story
    story_join: str | None = None  # first | near | update (new articles only)


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
                    "text_source", "extraction_status", "extraction_note", "pub_status", "agency_guid",
                    "agency_version")


_CASTS = {"source_id": "integer", "language_prob": "real", "published_at": "timestamptz",
          "fetched_at": "timestamptz", "agency_version": "integer"}
_ARTICLE_TEMPLATE = "(" + ", ".join(f"%s::{_CASTS.get(c, 'text')}" for c in _ARTICLE_COLUMNS) + ")"


def _row(candidate: ArticleCandidate) -> tuple[Any, ...]:
    return tuple(getattr(candidate, column) for column in _ARTICLE_COLUMNS)


def load_articles(conn: Connection, candidates: Sequence[ArticleCandidate],
                  thresholds: Thresholds | None = None) -> list[LoadOutcome]:
    """Deduplicate and upsert ``candidates`` and place each new article in a story (in one
    transaction, the caller commits). Returns one outcome per candidate, in order.

    Same canonical URL: the stored article is kept; it is upgraded when the candidate has page
    text and the stored one only feed text, and gets a new *version* when its text changed.
    Same normalized text under another URL: an exact duplicate, nothing stored. Otherwise a
    new article, which joins the story of its best near-duplicate (MinHash LSH over stored
    fingerprints and the rest of the batch) or starts a story. An advisory lock serializes
    loaders, so two workers holding copies of one story cannot create two stories.
    """
    if not candidates:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_ARTICLES_LOCK,))
        urls = list({c.canonical_url for c in candidates})
        hashes = list({c.content_hash for c in candidates if c.content_hash})
        cur.execute("""SELECT id, canonical_url, content_hash, text_source, story_id FROM articles
                       WHERE canonical_url = ANY(%s) OR content_hash = ANY(%s)""", (urls, hashes))
        by_url: dict[str, tuple[int, str | None, str]] = {}
        by_hash: dict[str, int] = {}
        story_of: dict[int, int | None] = {}
        for article_id, url, chash, text_source, story_id in cur.fetchall():
            by_url[url] = (article_id, chash, text_source)
            story_of[article_id] = story_id
            if chash:
                by_hash[chash] = article_id

        outcomes: list[LoadOutcome | None] = [None] * len(candidates)
        to_insert: list[int] = []
        to_update: list[tuple[int, int, bool]] = []  # (candidate index, article id, new version)
        pending_url: dict[str, int] = {}  # canonical url -> candidate index, within this batch
        pending_hash: dict[str, int] = {}
        status_updates: list[tuple[int, str, int | None]] = []  # agency status of stored articles
        for index, cand in enumerate(candidates):
            if cand.canonical_url in by_url:
                article_id, stored_hash, stored_source = by_url[cand.canonical_url]
                hash_free = not cand.content_hash or by_hash.get(cand.content_hash, article_id) == article_id
                usable = cand.pub_status == "usable"  # a retraction changes the status, not the text
                upgrade = usable and hash_free and cand.text_source == "page" and stored_source != "page"
                version = (usable and hash_free and not upgrade and cand.text_source == stored_source
                           and cand.content_hash != stored_hash)
                if cand.agency_guid is not None or not usable:
                    status_updates.append((article_id, cand.pub_status, cand.agency_version))
                if upgrade or version:
                    to_update.append((index, article_id, version))
                    if cand.content_hash:
                        by_hash[cand.content_hash] = article_id
                    by_url[cand.canonical_url] = (article_id, cand.content_hash, cand.text_source)
                outcomes[index] = LoadOutcome(article_id, "url", updated=upgrade or version,
                                              new_version=version, story_id=story_of.get(article_id))
            elif cand.content_hash and cand.content_hash in by_hash:
                article_id = by_hash[cand.content_hash]
                outcomes[index] = LoadOutcome(article_id, "exact", story_id=story_of.get(article_id))
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
                INSERT INTO articles ({", ".join(_ARTICLE_COLUMNS)}, retracted_at)
                SELECT v.*, CASE WHEN v.pub_status = 'usable' THEN NULL ELSE now() END
                FROM (VALUES %s) AS v({", ".join(_ARTICLE_COLUMNS)})
                RETURNING id, canonical_url""", [_row(candidates[i]) for i in to_insert],
                template=_ARTICLE_TEMPLATE, fetch=True)
            id_by_url = {url: article_id for article_id, url in rows}
            for index in to_insert:
                inserted_ids[index] = id_by_url[candidates[index].canonical_url]
            stories = _assign_stories(cur, [(inserted_ids[i], candidates[i]) for i in to_insert],
                                      thresholds or Thresholds())
            for index in to_insert:
                story_id, is_new, join = stories[inserted_ids[index]]
                outcomes[index] = LoadOutcome(inserted_ids[index], "new", story_id=story_id,
                                              story_new=is_new, story_join=join)
        for index, cand in enumerate(candidates):
            if outcomes[index] is None:
                first = pending_url.get(cand.canonical_url)
                dedup = "url" if first is not None else "exact"
                first = first if first is not None else pending_hash[cand.content_hash]
                outcomes[index] = LoadOutcome(inserted_ids[first], dedup,
                                              story_id=outcomes[first].story_id)
        if to_update:
            _update_articles(cur, [(article_id, candidates[index], version)
                                   for index, article_id, version in to_update])
        if status_updates:
            execute_values(cur, """
                UPDATE articles a SET pub_status = v.status,
                       retracted_at = CASE WHEN v.status = 'usable' THEN NULL
                                           ELSE COALESCE(a.retracted_at, now()) END,
                       agency_version = GREATEST(a.agency_version, v.version), updated_at = now()
                FROM (VALUES %s) AS v(id, status, version)
                WHERE a.id = v.id AND (a.pub_status IS DISTINCT FROM v.status
                                       OR a.agency_version < v.version)""",
                status_updates, template="(%s::bigint, %s::text, %s::integer)")
    return [o for o in outcomes if o is not None]


def _update_articles(cur: Any, updates: Sequence[tuple[int, ArticleCandidate, bool]]) -> None:
    """Replace stored texts; a changed text (not a feed -> page upgrade) keeps the old one as a version."""
    versioned = [(article_id, c) for article_id, c, version in updates if version]
    if versioned:
        execute_values(cur, """
            INSERT INTO article_versions (article_id, version, title, text, content_hash, published_at,
                                          changes)
            SELECT a.id, a.version, a.title, a.text, a.content_hash, a.published_at,
                   jsonb_build_object('title_changed', a.title IS DISTINCT FROM v.title,
                                      'chars_before', length(a.text), 'chars_after', length(v.text))
            FROM articles a JOIN (VALUES %s) AS v(id, title, text) ON a.id = v.id
            ON CONFLICT (article_id, version) DO NOTHING""",
            [(article_id, c.title, c.text) for article_id, c in versioned],
            template="(%s::bigint, %s::text, %s::text)")
    execute_values(cur, """
        UPDATE articles a SET title = COALESCE(v.title, a.title), text = v.text,
               author = COALESCE(v.author, a.author), language = v.language,
               language_prob = v.language_prob, language_method = v.language_method,
               published_at = COALESCE(a.published_at, v.published_at),
               fetched_at = v.fetched_at, content_hash = v.content_hash,
               text_source = v.text_source, extraction_status = v.extraction_status,
               extraction_note = v.extraction_note, updated_at = now(),
               version = a.version + CASE WHEN v.new_version THEN 1 ELSE 0 END
        FROM (VALUES %s) AS v(id, title, text, author, language, language_prob, language_method,
                              published_at, fetched_at, content_hash, text_source,
                              extraction_status, extraction_note, new_version)
        WHERE a.id = v.id""",
        [(article_id, c.title, c.text, c.author, c.language, c.language_prob, c.language_method,
          c.published_at, c.fetched_at, c.content_hash, c.text_source, c.extraction_status,
          c.extraction_note, version) for article_id, c, version in updates],
        template="(%s::bigint, %s, %s, %s, %s, %s::real, %s, %s::timestamptz, %s::timestamptz, "
                 "%s, %s, %s, %s, %s::boolean)")
    _store_fingerprints(cur, [(article_id, c.fingerprint) for article_id, c, _ in updates])


def _store_fingerprints(cur: Any, items: Sequence[tuple[int, Fingerprint | None]]) -> None:
    """Store (or replace) fingerprints and their LSH band keys; None removes an article's."""
    ids = [article_id for article_id, _ in items]
    if not ids:
        return
    cur.execute("DELETE FROM article_fingerprints WHERE article_id = ANY(%s) RETURNING article_id, signature,"
                " shingles", (ids,))
    old = [(key, article_id) for article_id, signature, shingles in cur.fetchall()
           for key in Fingerprint.from_bytes(bytes(signature), shingles).bands]
    if old:  # by key: the band index needs no second index on article_id
        execute_values(cur, "DELETE FROM article_bands b USING (VALUES %s) AS v(key, id) "
                            "WHERE b.band_key = v.key AND b.article_id = v.id", old,
                       template="(%s::bigint, %s::bigint)", page_size=5000)
    rows = [(article_id, fp.to_bytes(), fp.shingles)
            for article_id, fp in items if fp is not None]
    if rows:
        execute_values(cur, "INSERT INTO article_fingerprints (article_id, signature, shingles) VALUES %s",
                       rows)
        execute_values(cur, "INSERT INTO article_bands (band_key, article_id) VALUES %s",
                       [(key, article_id) for article_id, fp in items if fp is not None for key in fp.bands],
                       page_size=5000)


def near_duplicate_candidates(cur: Any, items: Sequence[tuple[int, Fingerprint]]
                              ) -> dict[int, list[tuple[int, Fingerprint, int | None, str | None]]]:
    """Stored articles sharing an LSH band key with each fingerprint of ``items``:
    {item id: [(article id, fingerprint, story id, title)]}. One query for the whole batch."""
    candidates: dict[int, list[tuple[int, Fingerprint, int | None, str | None]]] = {}
    if not items:
        return candidates
    keys = [(item_id, key) for item_id, fp in items for key in fp.bands]
    cur.execute("""
        SELECT m.id, f.article_id, f.signature, f.shingles, a.story_id, a.title
        FROM (SELECT DISTINCT v.id, b.article_id
              FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, key)
              JOIN article_bands b ON b.band_key = v.key) m
        JOIN article_fingerprints f ON f.article_id = m.article_id
        JOIN articles a ON a.id = m.article_id""",
        ([k[0] for k in keys], [k[1] for k in keys]))
    for item_id, other_id, signature, shingles, story_id, title in cur.fetchall():
        fp = Fingerprint.from_bytes(bytes(signature), shingles)
        candidates.setdefault(item_id, []).append((other_id, fp, story_id, title))
    return candidates


def _assign_stories(cur: Any, new: Sequence[tuple[int, ArticleCandidate]],
                    thresholds: Thresholds) -> dict[int, tuple[int, bool, str]]:
    """Place freshly inserted articles in stories: {article id: (story id, new story?, join)}."""
    with_fp = [(article_id, c.fingerprint) for article_id, c in new if c.fingerprint is not None]
    candidates = near_duplicate_candidates(cur, with_fp)

    known_story: dict[int, int] = {}  # new article -> the existing story it joins
    founder_of: dict[int, int] = {}  # new article -> the batch article whose new story it joins
    joins: dict[int, tuple[bool, str, float | None]] = {}  # new article -> (new story?, join, sim)
    batch: list[tuple[int, ArticleCandidate]] = []
    for article_id, cand in new:
        best: tuple[float, int | None, int, str] | None = None  # (containment, story, via article, join)
        if cand.fingerprint is not None:
            pool = [(o, fp, story, title) for o, fp, story, title in candidates.get(article_id, [])]
            pool += [(o, c.fingerprint, None, c.title) for o, c in batch if c.fingerprint is not None]
            for other_id, fp, story_id, title in pool:
                match = compare(cand.fingerprint, fp, cand.title, title, thresholds)
                if match.same and (best is None or match.containment > best[0]):
                    best = (match.containment, story_id, other_id, match.reason)
        if best is None:
            founder_of[article_id] = article_id
            joins[article_id] = (True, "first", None)
        else:
            containment, story_id, via, reason = best
            if story_id is not None:
                known_story[article_id] = story_id
            elif via in founder_of:  # a batch member: its story is created below
                founder_of[article_id] = founder_of[via]
            elif via in known_story:
                known_story[article_id] = known_story[via]
            else:  # an article stored before stories existed
                known_story[article_id] = _story_of(cur, via)
            joins[article_id] = (False, reason, round(containment, 3))
        batch.append((article_id, cand))

    founders = [(a, c) for a, c in new if founder_of.get(a) == a]
    story_of_founder: dict[int, int] = {}
    if founders:  # one statement for all the stories this batch starts
        rows = execute_values(cur, """
            INSERT INTO stories (representative_article_id, title, first_seen_at, last_seen_at)
            SELECT v.article_id, v.title, COALESCE(v.seen, now()), COALESCE(v.seen, now())
            FROM (VALUES %s) AS v(article_id, title, seen)
            RETURNING id, representative_article_id""",
            [(a, c.title, c.published_at) for a, c in founders],
            template="(%s::bigint, %s::text, %s::timestamptz)", fetch=True)
        story_of_founder = {article_id: story_id for story_id, article_id in rows}
    placed = {article_id: (known_story.get(article_id) or story_of_founder[founder_of[article_id]],
                           *joins[article_id]) for article_id, _ in new}

    execute_values(cur, """
        UPDATE articles a SET story_id = v.story_id, story_join = v.join_kind, story_similarity = v.sim
        FROM (VALUES %s) AS v(id, story_id, join_kind, sim) WHERE a.id = v.id""",
        [(article_id, story, join, sim) for article_id, (story, _, join, sim) in placed.items()],
        template="(%s::bigint, %s::bigint, %s::text, %s::real)")
    _store_fingerprints(cur, [(article_id, c.fingerprint) for article_id, c in new])
    refresh_stories(cur, {story for story, *_ in placed.values() if story is not None})
    return {article_id: (story, is_new, join) for article_id, (story, is_new, join, _) in placed.items()}


def _story_of(cur: Any, article_id: int) -> int:
    """The story of a stored article; one is created for an article that has none yet."""
    cur.execute("SELECT story_id, title, published_at FROM articles WHERE id = %s", (article_id,))
    story_id, title, published = cur.fetchone()
    if story_id is None:
        story_id = _create_story(cur, article_id, title, published)
        cur.execute("UPDATE articles SET story_id = %s, story_join = 'first' WHERE id = %s",
                    (story_id, article_id))
    return story_id


def _create_story(cur: Any, article_id: int, title: str | None, published_at: datetime | None) -> int:
    """A story for one article (stored before stories existed)."""
    cur.execute("""INSERT INTO stories (representative_article_id, title, first_seen_at, last_seen_at)
                   VALUES (%s, %s, COALESCE(%s, now()), COALESCE(%s, now())) RETURNING id""",
                (article_id, title, published_at, published_at))
    return cur.fetchone()[0]


def refresh_stories(cur: Any, story_ids: Iterable[int]) -> None:
    """Recompute size, time span and representative (earliest article) of ``story_ids``."""
    ids = sorted(set(story_ids))
    if not ids:
        return
    cur.execute("""
        UPDATE stories s SET article_count = m.n, first_seen_at = m.first_seen, last_seen_at = m.last_seen,
               representative_article_id = m.representative, title = m.title, updated_at = now()
        FROM (SELECT story_id, count(*) AS n,
                     min(COALESCE(published_at, created_at)) AS first_seen,
                     max(COALESCE(published_at, created_at)) AS last_seen,
                     (array_agg(id ORDER BY COALESCE(published_at, created_at), id))[1] AS representative,
                     (array_agg(title ORDER BY COALESCE(published_at, created_at), id))[1] AS title
              FROM articles WHERE story_id = ANY(%s) GROUP BY story_id) m
        WHERE s.id = m.story_id""", (ids,))


# -- pipeline runs -------------------------------------------------------------------------------

RUN_COUNTERS = ("feeds_polled", "feeds_skipped", "feeds_not_modified", "feeds_failed", "entries_new",
                "entries_updated", "pages_fetched",
                "fetch_failures", "articles_new", "articles_updated", "duplicates", "stories_new",
                "near_duplicates", "versions_new", "articles_tagged")


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


# -- tagging -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArticleTags:
    """Everything tagging found in one article, ready to store."""

    article_id: int
    tagged_hash: str
    entities: Sequence[dict[str, Any]]  # name, type, wikidata, side, mentions, in_title, first_sentence,
    #                                     source, occurrences
    keywords: Sequence[tuple[str, str, float]]  # (kind, keyword, score)
    topics: Sequence[tuple[str, float, bool, dict[str, Any]]]  # (topic, score, matched, why)


def sync_entities(conn: Connection, entities: Iterable[Any]) -> None:
    """Upsert the gazetteer's entities and aliases (gazetteer.Entity objects).

    Concurrent tag shards each call this: a transaction-level advisory lock makes them take turns
    (the alias replacement would otherwise collide on its primary key), and the aliases are only
    rewritten when they changed."""
    entities = list(entities)
    if not entities:
        return
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_ENTITIES_LOCK,))
        execute_values(cur, """
            INSERT INTO entities (name, type, wikidata, side, origin) VALUES %s
            ON CONFLICT (name) DO UPDATE SET type = EXCLUDED.type, wikidata = EXCLUDED.wikidata,
                side = EXCLUDED.side, origin = 'gazetteer', updated_at = now()
            WHERE (entities.type, entities.wikidata, entities.side, entities.origin)
                  IS DISTINCT FROM (EXCLUDED.type, EXCLUDED.wikidata, EXCLUDED.side, 'gazetteer')""",
            [(e.name, e.type, e.wikidata, e.side, "gazetteer") for e in entities])
        cur.execute("SELECT name, id FROM entities WHERE name = ANY(%s)", ([e.name for e in entities],))
        ids = dict(cur.fetchall())
        rows = {(ids[e.name], language, alias, strength)
                for e in entities
                for strength, table in (("strong", e.aliases), ("weak", e.weak), ("short", e.short_forms))
                for language, aliases in table.items() for alias in aliases}
        cur.execute("""SELECT entity_id, language, alias, strength FROM entity_aliases
                       WHERE entity_id = ANY(%s)""", (list(ids.values()),))
        if set(cur.fetchall()) == rows:
            return
        cur.execute("DELETE FROM entity_aliases WHERE entity_id = ANY(%s)", (list(ids.values()),))
        execute_values(cur, "INSERT INTO entity_aliases (entity_id, language, alias, strength) VALUES %s",
                       sorted(rows), page_size=5000)


_TAG_HASH = "COALESCE(content_hash, 'len:' || length(text)::text)"
"""What an article's tags were computed from; a change of it makes the tags stale."""


def untagged_query(limit: int, shard: tuple[int, int] | None = None) -> tuple[str, list[Any]]:
    """The SQL and parameters of :func:`untagged_articles` (exposed for EXPLAIN in tests). Its
    WHERE is the predicate of the partial index articles_to_tag_idx (sql/0014), word for word:
    keep them identical or the planner falls back to scanning every article."""
    where, params = "", [limit]
    if shard is not None:
        where, params = "AND id %% %s = %s", [shard[1], shard[0], limit]
    return (f"""SELECT id, title, text, language, {_TAG_HASH}
                FROM articles
                WHERE (tagged_at IS NULL OR tagged_hash IS DISTINCT FROM {_TAG_HASH})
                      {where}
                ORDER BY id LIMIT %s""", params)


def untagged_articles(conn: Connection, limit: int, shard: tuple[int, int] | None = None
                      ) -> list[tuple[int, str | None, str, str, str]]:
    """Articles whose tags are missing or stale: (id, title, text, language, tag hash); with
    ``shard`` = (index, count), only those with ``id % count = index``."""
    with conn.cursor() as cur:
        cur.execute(*untagged_query(limit, shard))
        return cur.fetchall()


def save_tags(conn: Connection, tags: Sequence[ArticleTags]) -> None:
    """Replace the stored entities, keywords and topics of these articles (idempotent)."""
    if not tags:
        return
    ids = [t.article_id for t in tags]
    with conn.cursor() as cur:
        ner_only = {(e["name"], e["type"]) for t in tags for e in t.entities if e.get("source") == "ner"}
        if ner_only:
            execute_values(cur, """INSERT INTO entities (name, type, origin) VALUES %s
                                   ON CONFLICT (name) DO NOTHING""",
                           [(name, kind, "ner") for name, kind in sorted(ner_only)])
        names = sorted({e["name"] for t in tags for e in t.entities})
        cur.execute("SELECT name, id FROM entities WHERE name = ANY(%s)", (names,))
        entity_ids = dict(cur.fetchall())
        for table in ("article_entities", "article_keywords", "article_topics"):
            cur.execute(f"DELETE FROM {table} WHERE article_id = ANY(%s)", (ids,))
        entity_rows = [(t.article_id, entity_ids[e["name"]], e["mentions"], e["in_title"],
                        e["first_sentence"], e.get("source", "gazetteer"),
                        json.dumps(e.get("occurrences", []), ensure_ascii=False))
                       for t in tags for e in t.entities if e["name"] in entity_ids]
        if entity_rows:
            execute_values(cur, """INSERT INTO article_entities (article_id, entity_id, mentions, in_title,
                                                                first_sentence, source, occurrences)
                                   VALUES %s""", entity_rows,
                           template="(%s, %s, %s, %s, %s, %s, %s::jsonb)", page_size=2000)
        keyword_rows = {(t.article_id, kind, keyword[:300]): score for t in tags
                        for kind, keyword, score in t.keywords}
        if keyword_rows:
            execute_values(cur, "INSERT INTO article_keywords (article_id, kind, keyword, score) VALUES %s",
                           [(*key, score) for key, score in keyword_rows.items()], page_size=2000)
        topic_rows = [(t.article_id, topic, min(1.0, max(0.0, score)), matched,
                       json.dumps(why, ensure_ascii=False, default=str))
                      for t in tags for topic, score, matched, why in t.topics]
        if topic_rows:
            execute_values(cur, "INSERT INTO article_topics (article_id, topic, score, matched, why) "
                                "VALUES %s", topic_rows, template="(%s, %s, %s, %s, %s::jsonb)")
        execute_values(cur, """UPDATE articles a SET tagged_hash = v.hash, tagged_at = now()
                               FROM (VALUES %s) AS v(id, hash) WHERE a.id = v.id""",
                       [(t.article_id, t.tagged_hash) for t in tags], template="(%s::bigint, %s::text)")
