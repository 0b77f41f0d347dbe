"""Events for analysts: the ``event_overview`` view filtered by time, topic and language, for
``newsmon events`` and the HTML report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsmon.analysts.reports import check_topic, format_table
from newsmon.core.db import connect


@dataclass(frozen=True)
class EventRow:
    event_id: int
    title: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    stories: int
    articles: int
    languages: tuple[str, ...]
    sources: tuple[str, ...]
    top_entities: tuple[str, ...]
    best_topic: str | None
    best_topic_score: float | None


def list_events(cur: Any, since: datetime | None = None, topic: str | None = None,
                language: str | None = None, limit: int = 50) -> list[EventRow]:
    """Events last seen since ``since``, with a story matching ``topic`` (at its threshold) and an
    article in ``language``; the most covered first (languages, then sources, then articles)."""
    cur.execute("""
        SELECT event_id, title, first_seen_at, last_seen_at, stories, articles, languages, sources,
               top_entities, best_topic, best_topic_score
        FROM event_overview o
        WHERE (%(since)s::timestamptz IS NULL OR o.last_seen_at >= %(since)s)
          AND (%(topic)s::text IS NULL OR EXISTS (
               SELECT 1 FROM event_stories es JOIN articles a ON a.story_id = es.story_id
               JOIN article_topics t ON t.article_id = a.id
               WHERE es.event_id = o.event_id AND t.topic = %(topic)s AND t.matched))
          AND (%(lang)s::text IS NULL OR %(lang)s = ANY(o.languages))
        ORDER BY cardinality(o.languages) DESC, cardinality(o.sources) DESC, o.articles DESC,
                 o.first_seen_at DESC
        LIMIT %(limit)s""", {"since": since, "topic": topic, "lang": language, "limit": limit})
    return [EventRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6]), tuple(r[7]), tuple(r[8]), r[9],
                     None if r[10] is None else float(r[10])) for r in cur.fetchall()]


def print_events(dsn: str, since: datetime | None = None, topic: str | None = None,
                 language: str | None = None, limit: int = 50) -> int:
    """Print :func:`list_events`; returns how many were listed."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            if topic:
                check_topic(cur, topic)
            rows = list_events(cur, since, topic, language, limit)
    finally:
        conn.close()
    if not rows:
        print("no events" + (f" on {topic}" if topic else "") + (f" in {language}" if language else "")
              + (f" since {since:%Y-%m-%d %H:%M}" if since else ""))
        return 0
    print(format_table(["event", "first seen", "stories", "articles", "langs", "sources", "entities",
                        "title"],
                       [(r.event_id, f"{r.first_seen_at:%Y-%m-%d %H:%M}", r.stories, r.articles,
                         ",".join(r.languages), len(r.sources), ", ".join(r.top_entities[:3]), r.title)
                        for r in rows], max_width=70))
    return len(rows)
