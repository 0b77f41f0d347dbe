"""Headline-only items (a wire flash, a headline-only feed): a title and no body is an article,
loaded with ``text_source = 'title_only'`` (sql/0020), never merged with other headlines by dedup,
and tagged from its title. Real PostgreSQL; feeds served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2
import pytest

from newsmon.articles.store import ArticleCandidate
from newsmon.core.config import FeedConfig, Settings
from newsmon.core.db import transaction
from newsmon.pipeline.importer import import_paths
from newsmon.pipeline.tasks import plan_batches, poll_source, process_entries, sync_sources, tag_articles
from newsmon.stories.neardup import fingerprint
from newsmon.stories.store import load_articles

NATO_RUSSIA = "NATO warns Russia over troop build-up on Ukraine border"
NATO_RUSSIA_FR = "Sergueï Lavrov accuse l'Otan de menacer la Russie"
UNRELATED = "Tram line to the harbour reopens after repairs"
BODY = ("The harbour tram line reopened on Monday after three months of repairs to the tracks and "
        "the overhead wires, the city transport authority said in a statement.")

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Flash wire</title><language>en</language>
<item><title>{NATO_RUSSIA}</title><link>https://flash.example/1</link><guid>flash-1</guid>
  <pubDate>Mon, 23 Nov 2026 09:00:00 GMT</pubDate></item>
<item><title>{UNRELATED}</title><link>https://flash.example/2</link><guid>flash-2</guid>
  <description></description></item>
<item><title>Harbour tram back</title><link>https://flash.example/3</link><guid>flash-3</guid>
  <description>{BODY}</description></item>
</channel></rss>"""


def _rows(db: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@pytest.fixture
def feed_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = RSS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/flash.xml"
    server.shutdown()
    server.server_close()


def test_polled_headline_only_items_load_as_title_only_and_are_tagged_from_the_title(
        db: str, feed_server: str) -> None:
    """The feed path: items without a description load (title_only, empty text, no hash, no
    fingerprint, a story each); the one with a description stays 'feed'; the tag stage tags the
    headlines from their titles (entities in the title, the NATO–Russia topic)."""
    settings = Settings(database_url=db, host_min_interval=0)
    sync_sources(settings, [FeedConfig(name="flash", url=feed_server, allow_private=("127.0.0.0/8",),
                                       fetch_pages=False)])
    assert poll_source(settings, "flash", force=True).entries_new == 3
    outcome = process_entries(settings, [i for batch in plan_batches(settings) for i in batch])
    assert outcome.articles_new == 3 and outcome.duplicates == 0
    rows = _rows(db, """SELECT a.url, a.text_source, a.text, a.content_hash, a.language, a.story_id,
                               f.article_id IS NOT NULL, a.extraction_status
                        FROM articles a LEFT JOIN article_fingerprints f ON f.article_id = a.id
                        ORDER BY a.url""")
    by_url = {r[0]: r[1:] for r in rows}
    for url in ("https://flash.example/1", "https://flash.example/2"):
        source, text, chash, language, _, has_fingerprint, status = by_url[url]
        assert (source, text, chash, has_fingerprint) == ("title_only", "", None, False)
        assert status == "not_fetched"
        assert language == "en"
    assert by_url["https://flash.example/3"][:2] == ("feed", BODY)
    assert len({r[5] for r in rows}) == 3  # three stories: no headline merged with another

    assert tag_articles(settings) == 3
    entities = _rows(db, """SELECT e.name, ae.in_title FROM article_entities ae
                            JOIN entities e ON e.id = ae.entity_id JOIN articles a ON a.id = ae.article_id
                            WHERE a.url = 'https://flash.example/1' ORDER BY e.name""")
    assert {"NATO", "Russia"} <= {name for name, _ in entities}
    assert all(in_title for _, in_title in entities)
    topics = dict(_rows(db, """SELECT a.url, t.matched FROM article_topics t
                               JOIN articles a ON a.id = t.article_id WHERE t.topic = 'nato_russia'"""))
    assert topics["https://flash.example/1"] is True
    assert topics["https://flash.example/2"] is False


def test_imported_headline_only_items_load_and_empty_items_are_rejected(db: str, tmp_path: Path) -> None:
    """`newsmon import`: JSON-Lines records and saved-feed items with a title and no text load as
    title_only; a record with neither is rejected with its line; distinct headlines stay distinct
    articles while the same body under two URLs is an exact duplicate; a rerun loads nothing twice."""
    (tmp_path / "flash.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"url": "https://wire.example/a", "title": NATO_RUSSIA_FR, "published": "2026-11-23T08:00:00Z",
         "language": "fr"},
        {"url": "https://wire.example/b", "title": UNRELATED, "text": "   "},
        {"url": "https://wire.example/c", "title": "Harbour tram back", "text": BODY},
        {"url": "https://wire.example/d", "text": ""},
        {"url": "https://wire.example/e", "title": "  "},
    ]) + "\n", encoding="utf-8")
    (tmp_path / "saved.xml").write_text(RSS.replace("flash.example", "saved.example"), encoding="utf-8")
    settings = Settings(database_url=db)
    report = import_paths(settings, [tmp_path], progress=False)
    assert [where.rsplit(":", 1)[1] for where, _ in report.rejected] == ["4", "5"]
    assert all("non-empty 'text' or 'title'" in why for _, why in report.rejected)
    assert report.articles_new == 5 and report.duplicates == 1  # saved.example/3: the body of wire.example/c
    rows = dict(_rows(db, "SELECT url, text_source FROM articles"))
    assert rows == {"https://wire.example/a": "title_only", "https://wire.example/b": "title_only",
                    "https://wire.example/c": "file", "https://saved.example/1": "title_only",
                    "https://saved.example/2": "title_only"}
    assert _rows(db, "SELECT language, published_at IS NOT NULL FROM articles WHERE url = %s",
                 ("https://wire.example/a",)) == [("fr", True)]
    assert _rows(db, "SELECT count(DISTINCT story_id) FROM articles")[0][0] == 5
    again = import_paths(settings, [tmp_path], progress=False)
    assert again.articles_new == 0 and _rows(db, "SELECT count(*) FROM articles")[0][0] == 5

    assert tag_articles(settings) == 5
    french = _rows(db, """SELECT e.name FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                          JOIN articles a ON a.id = ae.article_id WHERE a.url = 'https://wire.example/a'""")
    assert {"NATO", "Russia", "Sergey Lavrov"} <= {name for (name,) in french}


def _candidate(url: str, text: str, source: str, title: str = UNRELATED) -> ArticleCandidate:
    from newsmon.articles.hashing import content_hash

    return ArticleCandidate(
        canonical_url=url, url=url, source_id=None, title=title, text=text, author=None, language="en",
        language_prob=None, language_method="detected", published_at=None, fetched_at=None,
        content_hash=content_hash(text), text_source=source, extraction_status="not_fetched",
        fingerprint=fingerprint(text))


def test_a_headline_gets_its_text_later_and_headlines_are_never_duplicates(db: str) -> None:
    """Many headline-only items in one load are distinct articles (no hash, no fingerprint to
    match); the same URL arriving later with a text upgrades the headline in place."""
    headlines = [_candidate(f"https://flash.example/{n}", "", "title_only", title=f"Flash {n}: {UNRELATED}")
                 for n in range(5)]
    with transaction(db) as conn:
        outcomes = load_articles(conn, headlines)
    assert [o.dedup for o in outcomes] == ["new"] * 5
    assert len({o.story_id for o in outcomes}) == 5
    with transaction(db) as conn:
        [upgraded] = load_articles(conn, [_candidate("https://flash.example/0", BODY, "feed")])
    assert upgraded.dedup == "url" and upgraded.updated and not upgraded.new_version
    assert _rows(db, """SELECT text_source, text, content_hash IS NOT NULL FROM articles
                        WHERE url = 'https://flash.example/0'""") == [("feed", BODY, True)]
    assert _rows(db, "SELECT count(*) FROM article_fingerprints")[0][0] == 1
    with transaction(db) as conn:  # a headline again for an article with a text: nothing changes
        [same] = load_articles(conn, [_candidate("https://flash.example/0", "", "title_only")])
    assert same.dedup == "url" and not same.updated


def test_migration_allows_title_only_and_nothing_else_new(db: str) -> None:
    """The CHECK constraint accepts 'title_only' and still refuses an unknown text source."""
    with pytest.raises(psycopg2.errors.CheckViolation), psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO articles (canonical_url, url, text_source, extraction_status)
                       VALUES ('urn:x', 'urn:x', 'guess', 'ok')""")
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO articles (canonical_url, url, title, text_source, extraction_status)
                       VALUES ('urn:y', 'urn:y', 'A flash', 'title_only', 'ok')""")


def test_upgrade_marks_stored_headline_only_articles(pg_server: str, tmp_path: Path) -> None:
    """A database migrated before sql/0020 keeps its feed items without a body as articles with
    text_source 'feed'; the migration marks them title_only (and only them)."""
    import shutil
    import uuid

    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import SQL_DIR, migrate

    before = tmp_path / "sql"
    before.mkdir()
    for path in SQL_DIR.glob("*.sql"):
        if path.name < "0020":
            shutil.copy(path, before / path.name)
    name = f"newsmon_test_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_server, name)
    try:
        migrate(url, before)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO articles (canonical_url, url, title, text, text_source,
                                                 extraction_status)
                           VALUES ('urn:flash', 'urn:flash', 'A flash', '', 'feed', 'not_fetched'),
                                  ('urn:empty', 'urn:empty', NULL, '', 'feed', 'page_unavailable'),
                                  ('urn:body', 'urn:body', 'A story', %s, 'feed', 'not_fetched')""", (BODY,))
        assert migrate(url)[-1] == "0020"
        assert _rows(url, "SELECT canonical_url, text_source FROM articles ORDER BY 1") == [
            ("urn:body", "feed"), ("urn:empty", "feed"), ("urn:flash", "title_only")]
    finally:
        drop_database(pg_server, name)
