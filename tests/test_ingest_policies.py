"""Polite and guarded ingestion end to end (real fault server, real PostgreSQL): SSRF refusals
recorded on the right row, robots.txt honoured, lying validators caught, adaptive schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg2

from newsmon.core.config import FeedConfig, Settings
from newsmon.ingest.downloads import Fetcher
from newsmon.pipeline.tasks import finish_run, plan_batches, poll_source, process_entries, sync_sources

LOCAL = ("127.0.0.1/32",)


def _settings(db: str, **kw: object) -> Settings:
    return Settings(database_url=db, read_timeout=2.0, connect_timeout=1.0, host_min_interval=0, **kw)


def _run(settings: Settings, feeds: list[FeedConfig], fetcher: Fetcher | None = None,
         force: bool = True, now: datetime | None = None) -> dict[str, int]:
    names = sync_sources(settings, feeds)
    polls = [poll_source(settings, name, fetcher, now=now, force=force) for name in names]
    batches = [process_entries(settings, ids, fetcher) for ids in plan_batches(settings)]
    return finish_run(settings, "test", uuid.uuid4().hex, polls, batches)


def _rows(db: str, sql: str, *args: object) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_private_address_is_refused_without_allow_private(db: str, fault_server) -> None:
    """A feed on 127.0.0.1 that the config does not allow is refused before any request."""
    before = sum(fault_server.hits.values())
    counts = _run(_settings(db), [FeedConfig(name="local", url=fault_server.url("/ok.xml"))])
    assert counts["feeds_failed"] == 1
    error, kind = _rows(db, "SELECT last_error, last_error_kind FROM sources")[0]
    assert "resolves to 127.0.0.1" in error and kind == "policy"
    assert sum(fault_server.hits.values()) == before  # nothing was sent


def test_redirect_to_a_private_name_is_refused(db: str, fault_server) -> None:
    """An allowed feed redirecting to a host that resolves to a private address is refused at the
    redirect, with the reason on the source row (the name never reaches the system resolver)."""
    def resolver(host: str, port: int) -> list[str]:
        return {"intranet.test": ["10.9.8.7"]}.get(host, ["127.0.0.1"])

    settings = _settings(db)
    feed = FeedConfig(name="hop", url=fault_server.url("/redirect-to?target=http://intranet.test/feed.xml"),
                      allow_private=LOCAL)
    with Fetcher(settings, resolver=resolver) as fetcher:
        counts = _run(settings, [feed], fetcher)
    assert counts["feeds_failed"] == 1
    error = _rows(db, "SELECT last_error FROM sources")[0][0]
    assert "intranet.test resolves to 10.9.8.7" in error and "redirect target of" in error


def test_robots_txt_disallowed_page_is_not_fetched(db: str, fault_server) -> None:
    """The page under Disallow keeps the feed text and says why; the allowed one is fetched;
    robots.txt is fetched once and cached in host_robots."""
    feed = FeedConfig(name="robots", url=fault_server.url("/robots-feed.xml"), allow_private=LOCAL)
    hits_before = fault_server.hits.get("/private/story.html?", 0)
    _run(_settings(db), [feed])
    rows = dict(_rows(db, "SELECT title, extraction_status FROM articles"))
    assert rows == {"private story": "robots_disallowed", "public story": "ok"}
    assert fault_server.hits.get("/private/story.html?", 0) == hits_before
    cached = _rows(db, "SELECT status, body FROM host_robots")
    assert cached == [(200, "User-agent: *\nDisallow: /private/\n")]
    # a source configured with robots: false fetches it (and upgrades the stored article)
    off = FeedConfig(name="robots-off", url=fault_server.url("/robots-feed.xml"), allow_private=LOCAL,
                     robots=False)
    _run(_settings(db), [feed, off])
    rows = dict(_rows(db, "SELECT title, extraction_status FROM articles"))
    assert rows == {"private story": "ok", "public story": "ok"}
    assert fault_server.hits.get("/private/story.html?", 0) == hits_before + 1


def test_lying_validators_are_caught_and_dropped(db: str, fault_server) -> None:
    """A server answering 304 to its ETag while the feed changes is caught by the periodic full
    fetch; the source is then polled without validators and its new items are loaded."""
    settings = _settings(db, full_poll_every=3)
    feed = [FeedConfig(name="liar", url=fault_server.url(f"/liar.xml?key={uuid.uuid4().hex}"),
                       allow_private=LOCAL, fetch_pages=False)]
    first = _run(settings, feed)
    assert first["entries_new"] == 1
    second = _run(settings, feed)
    assert second["feeds_not_modified"] == 1 and second["entries_new"] == 0
    third = _run(settings, feed)  # the third poll double-checks the 304 with a full fetch
    assert third["entries_new"] == 1
    trusted, note = _rows(db, "SELECT validators_trusted, validators_note FROM sources")[0]
    assert trusted is False and "answered 304 Not Modified but the feed had changed" in note
    fourth = _run(settings, feed)  # now polled without validators: every change is seen
    assert fourth["entries_new"] == 1


def test_adaptive_schedule_skips_feeds_not_due(db: str, fault_server) -> None:
    """After a poll the source gets next_poll_at; an unforced run before then skips it, after
    it polls it again."""
    settings = _settings(db, poll_min_interval=600)
    feed = [FeedConfig(name="calm", url=fault_server.url("/etag.xml"), allow_private=LOCAL,
                       fetch_pages=False)]
    now = datetime.now(UTC)
    _run(settings, feed, force=False, now=now)
    next_poll, interval = _rows(db, "SELECT next_poll_at, poll_interval_seconds FROM sources")[0]
    assert interval >= 600 and next_poll >= now + timedelta(seconds=600)
    early = _run(settings, feed, force=False, now=now + timedelta(seconds=60))
    assert early["feeds_skipped"] == 1 and early["feeds_polled"] == 0
    later = _run(settings, feed, force=False, now=next_poll + timedelta(seconds=1))
    assert later["feeds_polled"] == 1 and later["feeds_not_modified"] == 1


def test_agency_versions_update_and_cancel_retracts(db: str, fault_server) -> None:
    """A NewsML-G2 item: version 2 replaces the stored text (the old one kept as a version, same
    story); a later canceled status marks the article retracted, never deleted."""
    key = uuid.uuid4().hex[:8]
    feed = [FeedConfig(name="wire", url=fault_server.url(f"/wire.xml?key={key}"), kind="newsml",
                       allow_private=LOCAL)]
    settings = _settings(db)
    first = _run(settings, feed)
    assert first["entries_new"] == 1 and first["articles_new"] == 1 and first["pages_fetched"] == 0
    second = _run(settings, feed)
    assert second["entries_updated"] == 1 and second["articles_new"] == 0 and second["versions_new"] == 1
    rows = _rows(db, "SELECT version, agency_version, title, pub_status, retracted_at IS NULL FROM articles")
    assert rows == [(2, 2, "UPDATE - NATO, Russia hold call", "usable", True)]
    old = _rows(db, "SELECT version, title FROM article_versions")
    assert old == [(1, "NATO, Russia hold call")]
    third = _run(settings, feed)
    assert third["entries_updated"] == 1
    rows = _rows(db, "SELECT count(*), min(pub_status), bool_and(retracted_at IS NOT NULL) FROM articles")
    assert rows == [(1, "canceled", True)]
    assert _rows(db, "SELECT extraction_note FROM articles")[0][0].startswith("agency item")
