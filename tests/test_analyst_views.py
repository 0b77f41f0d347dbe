"""The analyst views of sql/0010: article_overview (one row per article, with story, source and
topic scores) and topic_stories (one row per topic and story), on a small hand-built database."""

from __future__ import annotations

import re
from typing import Any

import psycopg2
import pytest

_SETUP = """
INSERT INTO sources (id, name, url) VALUES (1, 'lemonde', 'https://lemonde.test/rss'),
                                           (2, 'bbc', 'https://bbc.test/rss'),
                                           (3, 'spiegel', 'https://spiegel.test/rss');
INSERT INTO stories (id, title, first_seen_at, last_seen_at, article_count) VALUES
    (10, 'OTAN : sommet', '2025-03-01 08:00+00', '2025-03-01 12:00+00', 3),
    (20, 'Weather', '2025-03-02 08:00+00', '2025-03-02 08:00+00', 1);
INSERT INTO articles (id, canonical_url, url, source_id, title, language, published_at, text_source,
                      extraction_status, story_id, story_join, version, retracted_at, tagged_at) VALUES
    (1, 'https://lemonde.test/a', 'https://lemonde.test/a', 1, 'OTAN : sommet', 'fr', '2025-03-01 08:00+00',
     'feed', 'ok', 10, 'first', 2, NULL, now()),
    (2, 'https://bbc.test/b', 'https://bbc.test/b', 2, 'NATO summit', 'en', '2025-03-01 10:00+00',
     'feed', 'ok', 10, 'near', 1, NULL, now()),
    (3, 'https://spiegel.test/c', 'https://spiegel.test/c', 3, 'NATO-Gipfel', 'de', '2025-03-01 12:00+00',
     'feed', 'ok', 10, 'near', 1, '2025-03-01 13:00+00', now()),
    (4, 'https://bbc.test/w', 'https://bbc.test/w', 2, 'Weather', 'en', '2025-03-02 08:00+00',
     'feed', 'ok', 20, 'first', 1, NULL, NULL);
UPDATE stories SET representative_article_id = CASE id WHEN 10 THEN 1 ELSE 4 END;
INSERT INTO article_topics (article_id, topic, score, matched) VALUES
    (1, 'nato_russia', 0.5, true), (1, 'energy', 0.75, true),
    (2, 'nato_russia', 0.875, true), (2, 'energy', 0.25, false),
    (3, 'nato_russia', 0.9375, true);
"""


def _rows(dsn: str, query: str) -> list[dict[str, Any]]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        conn.close()


@pytest.fixture
def views_db(db: str) -> str:
    """The session database emptied, then two stories, four articles and their topic scores."""
    conn = psycopg2.connect(db)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(_SETUP)
    finally:
        conn.close()
    return db


def test_article_overview_one_row_per_article_with_story_source_and_topics(views_db: str) -> None:
    rows = {r["article_id"]: r for r in _rows(views_db, "SELECT * FROM article_overview")}
    assert sorted(rows) == [1, 2, 3, 4]  # retracted article 3 included, flagged
    first = rows[1]
    assert (first["source"], first["language"]) == ("lemonde", "fr")
    assert (first["story_id"], first["story_join"]) == (10, "first")
    assert (first["story_articles"], first["version"], first["retracted"]) == (3, 2, False)
    assert first["story_first_seen_at"].isoformat() == "2025-03-01T08:00:00+00:00"
    assert first["topic_scores"] == {"nato_russia": 0.5, "energy": 0.75}
    assert (first["best_topic"], first["best_score"]) == ("energy", 0.75)
    assert rows[2]["topic_scores"] == {"nato_russia": 0.875}  # unmatched topics left out
    assert rows[3]["retracted"] is True
    weather = rows[4]
    assert (weather["topic_scores"], weather["best_topic"], weather["best_score"], weather["tagged_at"]) == (
        {}, None, None, None)


def test_topic_stories_one_row_per_topic_and_story(views_db: str) -> None:
    rows = {(r["topic"], r["story_id"]): r for r in _rows(views_db, "SELECT * FROM topic_stories")}
    assert sorted(rows) == [("energy", 10), ("nato_russia", 10)]
    nato = rows["nato_russia", 10]
    assert (nato["title"], nato["url"]) == ("OTAN : sommet", "https://lemonde.test/a")
    assert (nato["articles"], nato["matched_articles"]) == (3, 2)  # the retracted match is not counted
    assert (nato["best_score"], nato["best_article_id"]) == (0.875, 2)
    assert nato["first_matched_at"].isoformat() == "2025-03-01T08:00:00+00:00"
    assert nato["last_seen_at"].isoformat() == "2025-03-01T12:00:00+00:00"
    assert nato["sources"] == ["bbc", "lemonde"]  # the retracted Spiegel article is left out here too
    assert nato["languages"] == ["en", "fr"]
    energy = rows["energy", 10]
    assert (energy["matched_articles"], energy["best_score"], energy["best_article_id"]) == (1, 0.75, 1)


def test_topic_stories_skips_members_when_not_asked(views_db: str) -> None:
    """Counting stories per topic does not aggregate every story's members (the LEFT JOIN on a
    subquery unique per story is removed by the planner)."""
    plan = "\n".join(r["QUERY PLAN"] for r in _rows(
        views_db, "EXPLAIN SELECT topic, count(*), sum(articles) FROM topic_stories GROUP BY topic"))
    assert " on sources " not in plan
    assert len(re.findall(r" on articles \w+", plan)) == 1  # the matched articles, not the members too


@pytest.mark.parametrize("query", [
    "SELECT * FROM topic_articles WHERE seen_at > now() - interval '1 day'",
    "SELECT * FROM article_overview WHERE seen_at > now() - interval '1 day'",
])
def test_time_windows_use_the_seen_index(views_db: str, query: str) -> None:
    """The analysts' time filter, COALESCE(published_at, created_at) in every view, has an index
    (sql/0013): a recent window does not scan every article."""
    conn = psycopg2.connect(views_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN " + query)
            plan = "\n".join(r[0] for r in cur.fetchall())
    finally:
        conn.close()
    assert "articles_seen_idx" in plan, plan


def test_topic_stories_members_are_looked_up_per_story(views_db: str) -> None:
    """Asking for the sources and languages of one topic's stories probes the story index for
    those stories instead of aggregating every article of the archive first."""
    conn = psycopg2.connect(views_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN SELECT story_id, sources, languages FROM topic_stories "
                        "WHERE topic = 'nato_russia'")
            plan = "\n".join(r[0] for r in cur.fetchall())
    finally:
        conn.close()
    per_story = plan.split("SubPlan", 1)[1] if "SubPlan" in plan else ""
    assert "Index Cond: (story_id = " in per_story, plan  # a lookup per output row, not a join
