"""Terminal reports read from PostgreSQL: the last run, the newest articles, feed health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from newsmon.core.db import connect, redact
from newsmon.core.errors import NewsmonError


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    """A plain-text table; cells are cut at ``max_width`` characters."""
    def cell(value: Any) -> str:
        text = "" if value is None else str(value).replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    return "\n".join(lines)


def print_run_summary(dsn: str, dag_id: str | None = None, newest: int = 10) -> dict[str, Any] | None:
    """Print the last pipeline run's counts, the newest articles and how to explore further."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("""SELECT run_id, dag_id, status, started_at, finished_at, feeds_polled,
                                  feeds_not_modified, feeds_failed, feeds_skipped, entries_new,
                                  entries_updated, pages_fetched, fetch_failures, articles_new,
                                  articles_updated, duplicates, stories_new, near_duplicates,
                                  versions_new, articles_tagged, details
                           FROM pipeline_runs WHERE %s::text IS NULL OR dag_id = %s
                           ORDER BY started_at DESC, id DESC LIMIT 1""", (dag_id, dag_id))
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
            cur.execute("""SELECT s.name, a.language, a.text_source,
                                  (SELECT string_agg(t.topic, ',') FROM article_topics t
                                   WHERE t.article_id = a.id AND t.matched), a.title
                           FROM articles a LEFT JOIN sources s ON s.id = a.source_id
                           ORDER BY a.published_at DESC NULLS LAST, a.id DESC LIMIT %s""", (newest,))
            articles = cur.fetchall()
            cur.execute("""SELECT topic, count(DISTINCT article_id), count(DISTINCT story_id)
                           FROM topic_articles GROUP BY topic ORDER BY topic""")
            topics = cur.fetchall()
            cur.execute("SELECT count(*), count(DISTINCT language) FROM articles")
            total, languages = cur.fetchone()
    finally:
        conn.close()
    if row is None:
        print("no pipeline run recorded yet")
        return None
    run = dict(zip(names, row, strict=True))
    print(f"Run {run['run_id']} ({run['dag_id']}): {run['status']}")
    print(f"  feeds polled {run['feeds_polled']} (not modified {run['feeds_not_modified']}, "
          f"failed {run['feeds_failed']}, not due {run['feeds_skipped']}), new feed entries "
          f"{run['entries_new']}, re-issued agency items {run['entries_updated']}")
    print(f"  pages fetched {run['pages_fetched']} (failures {run['fetch_failures']}), "
          f"articles new {run['articles_new']}, updated {run['articles_updated']} "
          f"(new versions {run['versions_new']}), duplicates {run['duplicates']}")
    print(f"  stories new {run['stories_new']}, articles joining an existing story {run['near_duplicates']}, "
          f"articles tagged {run['articles_tagged']}")
    for source, error in (run["details"] or {}).get("feed_errors", {}).items():
        print(f"  feed error  {source}: {error}")
    if run["entries_new"] == 0 and run["articles_new"] == 0 and run["articles_updated"] == 0:
        print("  nothing new: every feed item was already stored")
    print(f"\n{total} article(s) stored in {languages} language(s)."
          + "".join(f" Topic {name}: {n} article(s) in {k} story(ies)." for name, n, k in topics)
          + " Newest:")
    print(format_table(["source", "lang", "text", "topics", "title"], articles, max_width=70))
    print(f"\nExplore: psql '{redact(dsn)}'")
    return run


def print_feed_health(dsn: str) -> list[tuple[Any, ...]]:
    """One line per source: state, last poll and its outcome, failures, schedule, message."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("""SELECT source, health, last_status, last_http_status,
                                  to_char(last_polled_at, 'MM-DD HH24:MI'), failure_score,
                                  to_char(next_poll_at, 'MM-DD HH24:MI'), round(items_per_day::numeric, 1),
                                  to_char(last_new_item_at, 'MM-DD HH24:MI'),
                                  COALESCE(last_error, last_warning, validators_note)
                           FROM feed_health
                           ORDER BY CASE health WHEN 'failing' THEN 0 WHEN 'silent' THEN 1
                                                WHEN 'degraded' THEN 2 ELSE 3 END, source""")
            rows = cur.fetchall()
    finally:
        conn.close()
    if not rows:
        print("no sources yet: run an ingest first (sources are synced from the feeds file)")
        return rows
    print(format_table(["source", "health", "last", "http", "polled", "fails", "next poll", "items/day",
                        "last new", "message"], rows))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[1]] = counts.get(row[1], 0) + 1
    print("\n" + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    return rows


def print_stories(dsn: str, since: datetime | None = None, limit: int = 50, min_size: int = 1,
                  topic: str | None = None) -> int:
    """Stories last seen since ``since`` (with an article matching ``topic``), largest first;
    returns how many were listed."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            if topic:
                check_topic(cur, topic)
            cur.execute("""SELECT story_id, to_char(first_seen_at, 'YYYY-MM-DD HH24:MI'), article_count,
                                  feed_items, source_count, array_to_string(languages, ','), title
                           FROM story_overview
                           WHERE (%(since)s::timestamptz IS NULL OR last_seen_at >= %(since)s)
                             AND article_count >= %(min)s
                             AND (%(topic)s::text IS NULL OR story_id IN (
                                  SELECT story_id FROM topic_articles WHERE topic = %(topic)s))
                           ORDER BY feed_items DESC, article_count DESC, first_seen_at DESC
                           LIMIT %(limit)s""",
                        {"since": since, "min": min_size, "limit": limit, "topic": topic})
            rows = cur.fetchall()
    finally:
        conn.close()
    if not rows:
        print("no stories" + (f" on {topic}" if topic else "")
              + (f" since {since:%Y-%m-%d %H:%M}" if since else ""))
        return 0
    print(format_table(["story", "first seen", "articles", "items", "sources", "langs", "title"], rows,
                       max_width=80))
    return len(rows)


def print_alerts(dsn: str, limit: int = 50) -> int:
    """The newest alerts with their delivery status per channel."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("""SELECT alert_id, rule, mode, to_char(created_at, 'MM-DD HH24:MI'),
                                  round(score::numeric, 2), channel, status, attempts,
                                  COALESCE(last_error, ''), title
                           FROM alert_status ORDER BY created_at DESC, alert_id DESC LIMIT %s""", (limit,))
            rows = cur.fetchall()
    finally:
        conn.close()
    if not rows:
        print("no alerts yet")
        return 0
    print(format_table(["id", "rule", "mode", "created", "score", "channel", "status", "tries", "error",
                        "title"], rows))
    return len(rows)


def check_topic(cur: Any, topic: str) -> None:
    """Raise a clear error when no article was ever scored for ``topic``."""
    cur.execute("SELECT DISTINCT topic FROM article_topics ORDER BY 1")
    known = [row[0] for row in cur.fetchall()]
    if topic not in known:
        raise NewsmonError(f"unknown topic {topic!r}; articles are scored for: "
                           f"{', '.join(known) or 'none yet (no article tagged)'}")
