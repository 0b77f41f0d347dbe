"""Bad input end to end: broken feeds and pages are recorded on their rows, the other feeds
of the run go on, nothing already stored is lost, and transient page failures are retried."""

from __future__ import annotations

import uuid

import psycopg2

from newsmon.core.config import FeedConfig, Settings
from newsmon.pipeline.tasks import finish_run, plan_batches, poll_source, process_entries, sync_sources


def _settings(db: str) -> Settings:
    return Settings(database_url=db, read_timeout=1.0, connect_timeout=1.0, max_body_bytes=2_000_000,
                    max_redirects=3, fetch_max_attempts=3, host_min_interval=0)


def _run(settings: Settings, feeds: list[FeedConfig]) -> dict[str, int]:
    names = sync_sources(settings, feeds)
    polls = [poll_source(settings, name, force=True) for name in names]
    batches = [process_entries(settings, ids) for ids in plan_batches(settings)]
    return finish_run(settings, "test", uuid.uuid4().hex, polls, batches)


def _query(db: str, sql: str, *args: object) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


BAD_FEEDS = [
    # (route, expected fragment of sources.last_error)
    ("/html.xml", "not a feed: the URL returned an HTML page"),
    ("/malformed.xml", "not a feed"),
    ("/empty.xml", "empty document"),
    ("/404", "HTTP 404 (permanent)"),
    ("/500", "HTTP 500 (transient)"),
    ("/429", "Retry-After: 120"),
    ("/slow?seconds=3", "timed out"),
    ("/reset", "connection failed"),
    ("/redirect-loop", "redirect loop"),
    ("/big", "too large"),
    ("/gzip-bomb", "too large"),
]


def test_bad_feeds_are_recorded_and_the_good_one_loads(db: str, fault_server) -> None:
    """Each broken feed gets a clear error on its source row; the valid feed in the same run loads."""
    feeds = [FeedConfig(name="good", url=fault_server.url("/ok.xml"), allow_private=True)]
    feeds += [FeedConfig(name=f"bad-{i}", url=fault_server.url(route), allow_private=True)
              for i, (route, _) in enumerate(BAD_FEEDS)]
    counts = _run(_settings(db), feeds)
    assert counts["feeds_polled"] == len(feeds)
    assert counts["feeds_failed"] == len(BAD_FEEDS)
    assert counts["entries_new"] == 1 and counts["articles_new"] == 1
    errors = dict(_query(db, "SELECT name, last_error FROM sources WHERE last_status = 'error'"))
    for i, (route, fragment) in enumerate(BAD_FEEDS):
        assert fragment in (errors.get(f"bad-{i}") or ""), (route, errors.get(f"bad-{i}"))
    health = _query(db, "SELECT health, consecutive_failures FROM sources WHERE name = 'bad-0'")
    assert health == [("degraded", 1)]


def test_truncated_and_empty_feeds_are_warnings_not_failures(db: str, fault_server) -> None:
    """Items recovered from a cut feed are loaded with a warning; an itemless feed is 'empty'."""
    feeds = [FeedConfig(name="cut", url=fault_server.url("/truncated.xml"), allow_private=True),
             FeedConfig(name="none", url=fault_server.url("/nofeeditems.xml"), allow_private=True)]
    counts = _run(_settings(db), feeds)
    assert counts["feeds_failed"] == 0 and counts["entries_new"] == 1
    rows = dict((n, (s, w)) for n, s, w in _query(db, "SELECT name, last_status, last_warning FROM sources"))
    assert rows["cut"][0] == "ok" and "malformed feed, 1 item(s) recovered" in rows["cut"][1]
    assert rows["none"] == ("empty", "the feed is valid but contains no items")


def test_a_feed_that_breaks_loses_nothing(db: str, fault_server) -> None:
    """Stored entries and articles survive when the same source later fails; the streak counts up."""
    settings = _settings(db)
    _run(settings, [FeedConfig(name="wire", url=fault_server.url("/ok.xml"), allow_private=True)])
    before = _query(db, "SELECT id, title, text FROM articles ORDER BY id")
    assert len(before) == 1
    backoffs = []
    for expected_failures in range(1, 7):
        broken = FeedConfig(name="wire", url=fault_server.url("/500"), allow_private=True)
        counts = _run(settings, [broken])
        assert counts["feeds_failed"] == 1
        failures, score, health, wait = _query(db, """
            SELECT consecutive_failures, failure_score, health,
                   extract(epoch FROM next_poll_at - last_polled_at)
            FROM sources WHERE name = 'wire'""")[0]
        assert failures == expected_failures and score == 0.5 * expected_failures  # 5xx weighs 0.5
        assert health == ("failing" if score >= 3 else "degraded")
        backoffs.append(wait)
    assert backoffs == sorted(backoffs) and backoffs[0] == 300  # exponential backoff, from 5 minutes
    assert health == "failing"
    assert _query(db, "SELECT id, title, text FROM articles ORDER BY id") == before
    assert _query(db, "SELECT count(*) FROM feed_entries") == [(1,)]
    _run(settings, [FeedConfig(name="wire", url=fault_server.url("/ok.xml"), allow_private=True)])
    health = _query(db, "SELECT consecutive_failures, health FROM sources WHERE name = 'wire'")
    assert health == [(0, "active")]


def test_conditional_get_uses_stored_etag(db: str, fault_server) -> None:
    """The second poll sends If-None-Match and is counted as not modified."""
    settings = _settings(db)
    feeds = [FeedConfig(name="etag", url=fault_server.url("/etag.xml"), allow_private=True)]
    first = _run(settings, feeds)
    second = _run(settings, feeds)
    assert first["feeds_not_modified"] == 0 and first["entries_new"] == 1
    assert second["feeds_not_modified"] == 1 and second["entries_new"] == 0
    assert _query(db, "SELECT etag, last_status FROM sources") == [('"v1"', "not_modified")]


def test_transient_page_failure_keeps_feed_text_then_upgrades(db: str, fault_server) -> None:
    """A page answering 503 gives an article from the feed's text, queued for retry; the next run
    fetches the page and replaces the text; nothing is duplicated."""
    settings = _settings(db)
    prefix = uuid.uuid4().hex[:8]
    feeds = [FeedConfig(name="pages", url=fault_server.url(f"/pages.xml?prefix={prefix}"),
                        allow_private=True)]
    first = _run(settings, feeds)
    assert first["articles_new"] == 2 and first["fetch_failures"] == 1 and first["pages_fetched"] == 1
    rows = _query(db, """SELECT e.status, a.text_source, a.extraction_status, e.last_error
                         FROM feed_entries e JOIN articles a ON a.id = e.article_id ORDER BY e.guid""")
    assert rows[0][:3] == ("retry", "feed", "page_unavailable") and "HTTP 503" in rows[0][3]
    assert rows[1][:3] == ("done", "page", "ok")
    second = _run(settings, feeds)
    assert second["entries_new"] == 0 and second["articles_new"] == 0 and second["articles_updated"] == 1
    rows = _query(db, """SELECT e.status, a.text_source, a.text FROM feed_entries e
                         JOIN articles a ON a.id = e.article_id ORDER BY e.guid""")
    assert [r[:2] for r in rows] == [("done", "page"), ("done", "page")]
    assert "air policing" in rows[0][2]
    assert _query(db, "SELECT count(*) FROM articles") == [(2,)]


def test_permanent_page_failure_gives_up_after_one_try(db: str, fault_server) -> None:
    """A link to a closed port after max attempts, or a 404, is closed as failed with the feed text kept."""
    settings = Settings(database_url=db, read_timeout=1.0, connect_timeout=1.0, fetch_max_attempts=1,
                        host_min_interval=0)
    _run(settings, [FeedConfig(name="dead", url=fault_server.url("/ok.xml"), allow_private=True)])
    rows = _query(db, """SELECT e.status, e.attempts, a.text_source, a.text FROM feed_entries e
                         JOIN articles a ON a.id = e.article_id""")
    assert rows[0][:3] == ("failed", 1, "feed")
    assert rows[0][3].startswith("A summary long enough")
    again = _run(settings, [FeedConfig(name="dead", url=fault_server.url("/ok.xml"), allow_private=True)])
    assert again["pages_fetched"] == 0


def test_fetch_pages_off_uses_feed_text(db: str, fault_server) -> None:
    """A source configured with fetch_pages: false never requests article pages."""
    prefix = uuid.uuid4().hex[:8]
    feeds = [FeedConfig(name="nofetch", url=fault_server.url(f"/pages.xml?prefix={prefix}"),
                        allow_private=True,
                        fetch_pages=False)]
    counts = _run(_settings(db), feeds)
    assert counts["pages_fetched"] == 0 and counts["articles_new"] == 2
    assert fault_server.hits.get(f"page:{prefix}-a") is None
    assert {r[0] for r in _query(db, "SELECT extraction_status FROM articles")} == {"not_fetched"}


HOSTILE_FEEDS = [
    # (route, what must hold of the outcome)
    ("/xxe.xml", "no file content"),
    ("/laughs.xml", "no expansion"),
    ("/mislabeled.xml", "recovered"),
    ("/invalid-utf8.xml", "recovered"),
    ("/wrong-type.xml", "recovered"),
]


def test_hostile_and_mislabeled_feeds(db: str, fault_server) -> None:
    """XXE and entity bombs never read a file nor expand; feeds with a wrong charset or content
    type are recovered (items loaded, a warning recorded when the parser noticed)."""
    feeds = [FeedConfig(name=f"h-{i}", url=fault_server.url(route), allow_private=True, fetch_pages=False)
             for i, (route, _) in enumerate(HOSTILE_FEEDS)]
    counts = _run(_settings(db), feeds)
    assert counts["feeds_polled"] == len(HOSTILE_FEEDS)
    with open("/etc/passwd", encoding="utf-8", errors="replace") as secret:
        first_line = secret.readline().strip()
    stored = " ".join(str(v) for row in _query(db, "SELECT title, summary, content FROM feed_entries")
                      for v in row)
    assert first_line not in stored and "root:" not in stored
    assert "lol" * 20 not in stored
    sources = {n: (st, e, w) for n, st, e, w in
               _query(db, "SELECT name, last_status, last_error, last_warning FROM sources")}
    for i, (route, expectation) in enumerate(HOSTILE_FEEDS):
        status, error, _warning = sources[f"h-{i}"]
        assert status in ("ok", "error"), (route, status)
        if expectation == "recovered":
            assert status == "ok", (route, error)
    titles = {t for (t,) in _query(db, "SELECT title FROM feed_entries")}
    assert "Élection à Genève : la sécurité européenne en débat" in titles
