"""The stories stage's SQL: the dedup decision of every load (same URL, same text, a new
version, a near-duplicate) and story placement over stored MinHash fingerprints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extras import execute_values

from newsmon.articles.store import ARTICLE_COLUMNS, ARTICLE_TEMPLATE, ArticleCandidate, candidate_row
from newsmon.core.db import Connection
from newsmon.stories.neardup import Fingerprint, Thresholds, compare

_ARTICLES_LOCK = 0x6E6D5F61727469  # serializes the dedup decision of concurrent loaders


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


def load_articles(conn: Connection, candidates: Sequence[ArticleCandidate],
                  thresholds: Thresholds | None = None) -> list[LoadOutcome]:
    """Deduplicate and upsert ``candidates`` and place each new article in a story (in one
    transaction, the caller commits). Returns one outcome per candidate, in order.

    Same canonical URL: the stored article is kept; it is upgraded when the candidate has page
    text and the stored one only feed text, or any text and the stored one only a headline
    (``title_only``), and gets a new *version* when its text changed.
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
                upgrade = usable and hash_free and (
                    (cand.text_source == "page" and stored_source != "page")
                    or (stored_source == "title_only" and cand.text_source != "title_only"))
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
                INSERT INTO articles ({", ".join(ARTICLE_COLUMNS)}, retracted_at)
                SELECT v.*, CASE WHEN v.pub_status = 'usable' THEN NULL ELSE now() END
                FROM (VALUES %s) AS v({", ".join(ARTICLE_COLUMNS)})
                RETURNING id, canonical_url""", [candidate_row(candidates[i]) for i in to_insert],
                template=ARTICLE_TEMPLATE, fetch=True)
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
    """Replace stored texts; a changed text (not a feed -> page upgrade) keeps the old one as a version.
    One article updated twice in a batch (two files with one canonical URL and different texts)
    is updated in two rounds, in batch order, as two loads would: one statement may touch a row
    only once."""
    rounds: list[list[tuple[int, ArticleCandidate, bool]]] = []
    seen: dict[int, int] = {}
    for update in updates:
        occurrence = seen.get(update[0], 0)
        seen[update[0]] = occurrence + 1
        if occurrence == len(rounds):
            rounds.append([])
        rounds[occurrence].append(update)
    for round_updates in rounds:
        _update_round(cur, round_updates)


def _update_round(cur: Any, updates: Sequence[tuple[int, ArticleCandidate, bool]]) -> None:
    """``_update_articles`` for updates of distinct articles."""
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
               source_file = COALESCE(v.source_file, a.source_file),
               version = a.version + CASE WHEN v.new_version THEN 1 ELSE 0 END
        FROM (VALUES %s) AS v(id, title, text, author, language, language_prob, language_method,
                              published_at, fetched_at, content_hash, text_source,
                              extraction_status, extraction_note, new_version, source_file)
        WHERE a.id = v.id""",
        [(article_id, c.title, c.text, c.author, c.language, c.language_prob, c.language_method,
          c.published_at, c.fetched_at, c.content_hash, c.text_source, c.extraction_status,
          c.extraction_note, version, c.source_file) for article_id, c, version in updates],
        template="(%s::bigint, %s, %s, %s, %s, %s::real, %s, %s::timestamptz, %s::timestamptz, "
                 "%s, %s, %s, %s, %s::boolean, %s::text)")
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
