"""The events stage's SQL: the queue of stories without an event, their evidence from the stored
tags, the candidate index (``event_keys``: key x day), and the events with their members and
splits. One advisory lock per assignment: concurrent batches give one event, not two."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from psycopg2.extras import execute_values

from newsmon.core.db import Connection
from newsmon.events.cluster import EventState, Link, Params, Plan, assign
from newsmon.events.evidence import StoryEvidence, story_evidence

_EVENTS_LOCK = 0x6E6D5F6576656E  # serializes event assignment of concurrent batches


def pending_stories(conn: Connection, limit: int) -> list[int]:
    """Stories without an event whose representative article is tagged, oldest first (through
    the partial index stories_without_event_idx)."""
    with conn.cursor() as cur:
        cur.execute("""SELECT s.id FROM stories s JOIN articles a ON a.id = s.representative_article_id
                       WHERE s.event_id IS NULL AND a.tagged_at IS NOT NULL
                       ORDER BY s.first_seen_at, s.id LIMIT %s""", (limit,))
        return [row[0] for row in cur.fetchall()]


def load_evidence(conn: Connection, story_ids: Sequence[int]) -> list[StoryEvidence]:
    """The evidence of ``story_ids`` from their representative article's stored tags and text."""
    if not story_ids:
        return []
    with conn.cursor() as cur:
        cur.execute("""
            SELECT s.id, COALESCE(a.published_at, a.created_at, s.first_seen_at), a.language, a.title, a.text,
                   (SELECT COALESCE(json_agg(json_build_object(
                        'name', e.name, 'wikidata', e.wikidata, 'type', e.type, 'mentions', ae.mentions,
                        'in_title', ae.in_title, 'first_sentence', ae.first_sentence,
                        'occurrences', ae.occurrences)), '[]')
                      FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                     WHERE ae.article_id = a.id),
                   (SELECT COALESCE(json_agg(json_build_array(k.keyword, k.score)), '[]')
                      FROM article_keywords k WHERE k.article_id = a.id AND k.kind = 'term'),
                   (SELECT COALESCE(json_object_agg(t.topic, json_build_array(t.score, t.matched)), '{}')
                      FROM article_topics t WHERE t.article_id = a.id)
            FROM stories s JOIN articles a ON a.id = s.representative_article_id
            WHERE s.id = ANY(%s)""", (list(story_ids),))
        rows = cur.fetchall()
    return [story_evidence(story_id, seen, language, title, text or "", entities,
                           [(k, float(v)) for k, v in terms],
                           {k: (float(v[0]), bool(v[1])) for k, v in topics.items()})
            for story_id, seen, language, title, text, entities, terms, topics in rows]


class PostgresBackend:
    """The assignment's view of the stored events (one transaction, under the events lock)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lookup(self, keys: Sequence[str], low: int, high: int, cap: int) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {k: set() for k in keys}
        if not keys:
            return out
        with self.conn.cursor() as cur:
            cur.execute("""
                SELECT k.key, x.event_id
                FROM unnest(%s::text[]) AS k(key)
                CROSS JOIN LATERAL (SELECT DISTINCT ek.event_id FROM event_keys ek
                                    WHERE ek.key = k.key AND ek.day BETWEEN %s AND %s
                                    LIMIT %s) x""", (list(keys), low, high, cap))
            for key, event_id in cur.fetchall():
                out[key].add(event_id)
        return out

    def load(self, ids: Iterable[int]) -> dict[int, EventState]:
        ids = sorted(set(ids))
        if not ids:
            return {}
        with self.conn.cursor() as cur:
            cur.execute("""SELECT id, first_seen_at, last_seen_at, centroid, story_count, title
                           FROM events WHERE id = ANY(%s)""", (ids,))
            return {row[0]: EventState(row[0], row[1], row[2], dict(row[3]), row[4], row[5])
                    for row in cur.fetchall()}

    def members(self, ids: Iterable[int]) -> dict[int, dict[int, tuple[dict[str, float], datetime]]]:
        out: dict[int, dict[int, tuple[dict[str, float], datetime]]] = {i: {} for i in ids}
        with self.conn.cursor() as cur:
            cur.execute("""SELECT event_id, story_id, evidence -> 'keys', seen_at FROM event_stories
                           WHERE event_id = ANY(%s)""", (list(out),))
            for event_id, story_id, keys, seen in cur.fetchall():
                out[event_id][story_id] = (dict(keys or {}), seen)
        return out

    def apply(self, plan: Plan, stories: Sequence[StoryEvidence]) -> dict[int, int]:
        mapping: dict[int, int] = {}
        with self.conn.cursor() as cur:
            if plan.new:
                rows = execute_values(cur, """
                    INSERT INTO events (title, first_seen_at, last_seen_at, story_count, centroid)
                    SELECT v.title, v.first, v.last, v.n, v.centroid::jsonb
                    FROM (VALUES %s) AS v(tmp, title, first, last, n, centroid) ORDER BY v.tmp DESC
                    RETURNING id""",
                    [(s.id, None, s.first_seen, s.last_seen, s.stories, json.dumps(_rounded(s.centroid)))
                     for s in plan.new],  # titles: _refresh_titles below (every new event has a link)
                    template="(%s, %s, %s::timestamptz, %s::timestamptz, %s, %s)", fetch=True,
                    page_size=len(plan.new))
                # ORDER BY tmp DESC: -1, -2, ... in order, and bigserial ids come in that order
                for state, (event_id,) in zip(sorted(plan.new, key=lambda s: -s.id), rows, strict=True):
                    mapping[state.id] = event_id
            if plan.changed:
                execute_values(cur, """
                    UPDATE events e SET first_seen_at = v.first, last_seen_at = v.last, story_count = v.n,
                           centroid = v.centroid::jsonb, updated_at = now()
                    FROM (VALUES %s) AS v(id, first, last, n, centroid) WHERE e.id = v.id""",
                    [(s.id, s.first_seen, s.last_seen, s.stories, json.dumps(_rounded(s.centroid)))
                     for s in plan.changed.values()],
                    template="(%s::bigint, %s::timestamptz, %s::timestamptz, %s, %s)", page_size=1000)
            if plan.links:
                rows_ = [(link.story_id, mapping.get(link.event_id, link.event_id), link.evidence.seen_at,
                          link.evidence.language, link.score, json.dumps(link.why, ensure_ascii=False),
                          json.dumps(link.evidence.as_json(), ensure_ascii=False), link.evidence.topic,
                          link.evidence.topic_score) for link in plan.links]
                execute_values(cur, """
                    INSERT INTO event_stories (story_id, event_id, seen_at, language, score, why, evidence,
                                               topic, topic_score)
                    VALUES %s
                    ON CONFLICT (story_id) DO UPDATE SET event_id = EXCLUDED.event_id,
                        score = EXCLUDED.score, why = EXCLUDED.why, joined_at = now()""",
                    # a story placed again after a split keeps the evidence and topic it was placed with
                    # (the split re-places it from its keys alone)
                    rows_, template="(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s)", page_size=1000)
                execute_values(cur, "UPDATE stories s SET event_id = v.event "
                                    "FROM (VALUES %s) AS v(id, event) "
                                    "WHERE s.id = v.id",
                               [(r[0], r[1]) for r in rows_], template="(%s::bigint, %s::bigint)",
                               page_size=1000)
            if plan.index:
                execute_values(cur, "INSERT INTO event_keys (key, day, event_id) VALUES %s "
                                    "ON CONFLICT DO NOTHING",
                               sorted({(k, d, mapping.get(e, e)) for k, d, e in plan.index}), page_size=5000)
            if plan.splits:
                execute_values(cur, "INSERT INTO event_splits (story_id, from_event_id, to_event_id, why) "
                                    "VALUES %s",
                               [(s.story_id, s.from_event, mapping.get(s.to_event, s.to_event),
                                 json.dumps(s.why, ensure_ascii=False)) for s in plan.splits],
                               template="(%s, %s, %s, %s::jsonb)")
            touched = {mapping.get(link.event_id, link.event_id) for link in plan.links} | set(plan.changed)
            _refresh_titles(cur, touched)
        return mapping


def _rounded(centroid: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in centroid.items()}


def _refresh_titles(cur: Any, event_ids: Iterable[int]) -> None:
    """An event's title is its earliest story's."""
    ids = sorted(set(event_ids))
    if ids:
        cur.execute("""UPDATE events e SET title = m.title
                       FROM (SELECT DISTINCT ON (es.event_id) es.event_id, s.title
                             FROM event_stories es JOIN stories s ON s.id = es.story_id
                             WHERE es.event_id = ANY(%s) ORDER BY es.event_id, es.seen_at, es.story_id) m
                       WHERE e.id = m.event_id AND e.title IS DISTINCT FROM m.title""", (ids,))


def assign_stories(conn: Connection, story_ids: Sequence[int], params: Params | None = None) -> list[Link]:
    """Place ``story_ids`` in events, in this transaction (the caller commits), under the events
    lock: a concurrent batch waits and then sees this batch's events."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_EVENTS_LOCK,))
        cur.execute("SELECT id FROM stories WHERE id = ANY(%s) AND event_id IS NULL", (list(story_ids),))
        todo = [row[0] for row in cur.fetchall()]  # another batch may have placed some meanwhile
    evidence = load_evidence(conn, todo)
    return assign(evidence, PostgresBackend(conn), params)
