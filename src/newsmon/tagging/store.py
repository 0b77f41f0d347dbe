"""The tagging stage's SQL: the entity catalogue (synced from the gazetteer), the queue of
untagged or stale articles, and the tags themselves."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg2.extras import execute_values

from newsmon.core.db import Connection

_ENTITIES_LOCK = 0x6E6D5F656E7469  # serializes the gazetteer sync of concurrent tag shards


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
