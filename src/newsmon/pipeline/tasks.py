"""The ingest pipeline as plain functions: each is one Airflow task, and together
(:func:`ingest_once`) they run the whole job without Airflow.

Feed and page failures are recorded on the rows they concern and the run goes on; only
database errors propagate, so that the task fails and Airflow retries it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from newsmon.articles import store as article_store
from newsmon.articles.extraction import ExtractedArticle, extract_article
from newsmon.articles.language import detect_language
from newsmon.core.config import FeedConfig, Settings, load_feeds
from newsmon.core.db import transaction
from newsmon.core.errors import FetchError
from newsmon.ingest import feedhealth
from newsmon.ingest import store as ingest_store
from newsmon.ingest.downloads import Fetcher
from newsmon.ingest.formats import parse_any
from newsmon.ingest.robots import RobotsPolicy
from newsmon.pipeline import runs
from newsmon.stories import store as story_store
from newsmon.stories.neardup import configured_thresholds, text_keys
from newsmon.tagging import store as tag_store

log = logging.getLogger(__name__)
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass
class PollOutcome:
    """The result of polling one feed; JSON-serializable for XCom."""

    source: str
    status: str  # ok | not_modified | empty | error | skipped | unknown_source
    http_status: int | None = None
    entries_seen: int = 0
    entries_new: int = 0
    entries_updated: int = 0  # agency items re-queued: a new version, or canceled/withheld
    error: str | None = None
    warning: str | None = None
    health: str | None = None
    next_poll_at: str | None = None
    seconds: float = 0.0


@dataclass
class BatchOutcome:
    """Counts from processing one batch of feed entries; JSON-serializable for XCom."""

    entries: int = 0
    pages_fetched: int = 0
    fetch_failures: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    duplicates: int = 0
    stories_new: int = 0
    near_duplicates: int = 0
    versions_new: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


# -- sources -------------------------------------------------------------------------------------

def sync_sources(settings: Settings, feeds: Sequence[FeedConfig] | None = None) -> list[str]:
    """Load and validate the feeds file, upsert it into ``sources``; return enabled names."""
    feeds = load_feeds(settings.feeds_file) if feeds is None else feeds
    with transaction(settings.database_url) as conn:
        names = ingest_store.sync_sources(conn, feeds)
    log.info("%d feed(s) configured, %d enabled", len(feeds), len(names))
    return names


def poll_source(settings: Settings, name: str, fetcher: Fetcher | None = None,
                now: datetime | None = None, force: bool = False) -> PollOutcome:
    """Poll one feed, if due (``force`` polls anyway): conditional GET (with a periodic full
    fetch to catch lying validators), parse, queue new entries, update health and schedule."""
    now = now or datetime.now(UTC)
    with transaction(settings.database_url) as conn:
        source = ingest_store.get_source(conn, name)
    if source is None:
        return PollOutcome(source=name, status="unknown_source", error=f"no source named {name!r}")
    if not force and source.next_poll_at and source.next_poll_at > now:
        return PollOutcome(source=name, status="skipped", health=source.health,
                           next_poll_at=source.next_poll_at.isoformat())
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    started = time.monotonic()
    try:
        outcome = _poll(settings, source, fetcher, now)
    finally:
        if own_fetcher:
            fetcher.close()
    outcome.seconds = round(time.monotonic() - started, 3)
    return outcome


def _body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _poll(settings: Settings, source: ingest_store.SourceRow, fetcher: Fetcher, now: datetime) -> PollOutcome:
    state: dict[str, Any] = {"last_polled_at": now}
    use_validators = source.validators_trusted
    full_check_due = use_validators and source.polls_since_full + 1 >= settings.full_poll_every
    try:
        response = fetcher.fetch(source.url, etag=source.etag if use_validators else None,
                                 last_modified=source.last_modified if use_validators else None,
                                 accept=FEED_ACCEPT, allow_private=source.allow_private)
        state["polls_since_full"] = source.polls_since_full + 1
        if response.not_modified and full_check_due:
            full = fetcher.fetch(source.url, accept=FEED_ACCEPT, allow_private=source.allow_private)
            state["polls_since_full"] = 0
            if source.body_hash and _body_hash(full.body) != source.body_hash:
                state.update(validators_trusted=False, validators_note=(
                    f"{now:%Y-%m-%d %H:%M} the server answered 304 Not Modified but the feed had "
                    "changed: polled without validators from now on"))
                response = full
    except FetchError as exc:
        message = f"{exc} ({'transient' if exc.transient else 'permanent'})"
        return _poll_failed(settings, source, state, now, message, exc.kind, exc.status, exc.retry_after)
    if response.not_modified:
        state.update(last_success_at=now, last_status="not_modified", last_http_status=304)
        return _poll_succeeded(settings, source, state, now, PollOutcome(source.name, "not_modified", 304))
    digest = _body_hash(response.body)
    if (use_validators and "validators_trusted" not in state and response.etag
            and response.etag == source.etag and source.body_hash and digest != source.body_hash):
        state.update(validators_trusted=False, validators_note=(
            f"{now:%Y-%m-%d %H:%M} the same ETag came with different content: polled without "
            "validators from now on"))
    if not source.validators_trusted and digest == source.body_hash:
        state.update(last_success_at=now, last_status="not_modified", last_http_status=response.status)
        return _poll_succeeded(settings, source, state, now,
                               PollOutcome(source.name, "not_modified", response.status))
    parsed = parse_any(response.body, response.headers, response.url, kind=source.kind)
    if not parsed.ok:  # validators are not kept: the next poll fetches (and judges) it again
        return _poll_failed(settings, source, state, now, parsed.error or "unparsable", "soft",
                            response.status, None)
    state.update(body_hash=digest, etag=response.etag, last_modified=response.last_modified)
    with transaction(settings.database_url) as conn:
        new, updated = ingest_store.upsert_entries(conn, source.id, parsed.entries)
        rate = ingest_store.publication_rate(conn, source.id, now)
    status = "ok" if parsed.entries else "empty"
    state.update(last_success_at=now, last_status=status, last_http_status=response.status,
                 last_warning=parsed.warning, items_last_poll=len(parsed.entries), items_per_day=rate)
    if new:
        state["last_new_item_at"] = now
    outcome = PollOutcome(source=source.name, status=status, http_status=response.status,
                          entries_seen=len(parsed.entries), entries_new=new, entries_updated=updated,
                          warning=parsed.warning)
    log.info("feed %s: %d item(s), %d new, %d updated%s", source.name, len(parsed.entries), new, updated,
             f" (warning: {parsed.warning})" if parsed.warning else "")
    return _poll_succeeded(settings, source, state, now, outcome)


def _schedule(settings: Settings) -> feedhealth.Schedule:
    return feedhealth.Schedule(settings.poll_min_interval, settings.poll_max_interval,
                               settings.failure_backoff_max)


def _poll_succeeded(settings: Settings, source: ingest_store.SourceRow, state: dict[str, Any], now: datetime,
                    outcome: PollOutcome) -> PollOutcome:
    rate = state.get("items_per_day", source.items_per_day)
    interval = feedhealth.poll_interval(rate, _schedule(settings))
    health = feedhealth.health_after_success(source.health, now, outcome.entries_new,
                                             state.get("last_new_item_at", source.last_new_item_at), rate)
    state.update(consecutive_failures=0, failure_score=0.0, health=health, poll_interval_seconds=interval,
                 next_poll_at=now + timedelta(seconds=interval))
    with transaction(settings.database_url) as conn:
        ingest_store.update_source_state(conn, source.id, state)
    outcome.health, outcome.next_poll_at = health, state["next_poll_at"].isoformat()
    if outcome.status == "not_modified":
        log.info("feed %s: not modified", source.name)
    return outcome


def _poll_failed(settings: Settings, source: ingest_store.SourceRow, state: dict[str, Any], now: datetime,
                 message: str, kind: str, http_status: int | None, retry_after: float | None) -> PollOutcome:
    score = source.failure_score + feedhealth.FAILURE_WEIGHT.get(kind, 1.0)
    backoff = feedhealth.failure_backoff(score, _schedule(settings), retry_after)
    health = feedhealth.health_after_failure(source.health, score)
    state.update(last_status="error", last_http_status=http_status, last_error=message[:2000],
                 last_error_at=now, last_error_kind=kind, failure_score=score, health=health,
                 consecutive_failures=source.consecutive_failures + 1,
                 next_poll_at=now + timedelta(seconds=backoff))
    with transaction(settings.database_url) as conn:
        ingest_store.update_source_state(conn, source.id, state)
    log.warning("feed %s: %s (%s; next try in %d s)", source.name, message, kind, backoff)
    return PollOutcome(source=source.name, status="error", http_status=http_status, error=message,
                       health=health, next_poll_at=state["next_poll_at"].isoformat())


# -- processing ----------------------------------------------------------------------------------

def plan_batches(settings: Settings) -> list[list[int]]:
    """Split the queued entries into batches of ``batch_size`` ids (one task each)."""
    with transaction(settings.database_url) as conn:
        ids = ingest_store.queued_entry_ids(conn)
    size = settings.batch_size
    return [ids[i:i + size] for i in range(0, len(ids), size)]


@dataclass
class _PageOutcome:
    extracted: ExtractedArticle | None = None
    fetched: bool = False
    error: str | None = None
    transient: bool = False
    final_url: str | None = None
    refused: str | None = None  # robots_disallowed | refused (by our network policy)


def _fetch_page(fetcher: Fetcher, url: str, entry: ingest_store.EntryRow,
                robots: RobotsPolicy) -> _PageOutcome:
    if entry.robots and not robots.allowed(url, entry.allow_private):
        return _PageOutcome(error="robots.txt disallows this page (fell back to the feed's text)",
                            refused="robots_disallowed")
    try:
        response = fetcher.fetch(url, accept=PAGE_ACCEPT, allow_private=entry.allow_private)
    except FetchError as exc:
        return _PageOutcome(error=str(exc), transient=exc.transient,
                            refused="refused" if exc.kind == "policy" else None)
    # the feed usually gives title and date: then the page's meta tags are enough
    full = not (entry.title and entry.published_at)
    extracted = extract_article(response.body, response.url, full_metadata=full)
    if extracted is None:
        return _PageOutcome(fetched=True, final_url=response.url,
                            error="the page holds no article text (fell back to the feed's text)")
    return _PageOutcome(extracted=extracted, fetched=True, final_url=response.url)


def _candidate(entry: ingest_store.EntryRow, page: _PageOutcome | None,
               now: datetime) -> article_store.ArticleCandidate:
    """Merge what the feed and the page say about one article."""
    canonical = entry.canonical_url or f"urn:newsmon:{entry.source_name}:{entry.guid}"
    extracted = page.extracted if page else None
    if extracted is not None:
        text, text_source, status, note = extracted.text, "page", "ok", None
    else:
        text = entry.content if len(entry.content) >= len(entry.summary) else entry.summary
        text_source = "feed"
        if page is None:
            status = "not_fetched"
            if entry.version is not None and entry.content:
                note = "agency item: the text comes with the item"
            else:
                note = "page fetching is off for this source" if entry.link else "the feed item has no link"
        elif page.fetched:
            status, note = "no_article_text", page.error
        else:
            status, note = page.refused or "page_unavailable", page.error
        if not text.strip() and entry.title:  # a headline with no body: tagged from its title
            text, text_source = "", "title_only"
    declared = (extracted.language if extracted else None) or entry.language or entry.source_language
    language = detect_language(text or entry.title, declared)
    text_hash, signature = text_keys([text])[0]  # the text normalized once for both
    return article_store.ArticleCandidate(
        canonical_url=canonical,
        url=(page.final_url if page and page.final_url else None) or entry.link or canonical,
        source_id=entry.source_id,
        title=entry.title or (extracted.title if extracted else None),
        text=text,
        author=entry.author or (extracted.author if extracted else None),
        language=language.language,
        language_prob=language.probability,
        language_method=language.method,
        published_at=entry.published_at or (extracted.published_at if extracted else None),
        fetched_at=now if page and page.fetched else None,
        content_hash=text_hash,
        text_source=text_source,
        extraction_status=status,
        extraction_note=note,
        fingerprint=signature,
        pub_status=entry.pub_status,
        agency_guid=entry.guid if entry.version is not None else None,
        agency_version=entry.version,
    )


def _wants_page(entry: ingest_store.EntryRow) -> bool:
    """Fetch the linked page? Not when fetching is off for the source, nor for agency wire items
    that carry their own body (NewsML: the item is the article)."""
    if not (entry.link and entry.canonical_url and entry.fetch_pages):
        return False
    return entry.version is None or not entry.content


def process_entries(settings: Settings, entry_ids: Sequence[int], fetcher: Fetcher | None = None,
                    now: datetime | None = None) -> BatchOutcome:
    """Fetch, extract, detect language, deduplicate and load a batch of queued entries.

    Idempotent: entries already processed (by an earlier try of this task) are skipped, and
    pages whose article is already stored with page text are not fetched again.
    """
    now = now or datetime.now(UTC)
    started = time.monotonic()
    with transaction(settings.database_url) as conn:
        entries = ingest_store.load_queued_entries(conn, entry_ids)
        stored = article_store.page_articles_by_url(
            conn, (e.canonical_url for e in entries if e.canonical_url))
    outcome = BatchOutcome(entries=len(entries))
    if not entries:
        return outcome
    # one request per canonical URL: the same page linked with tracking parameters is one page
    link_of: dict[str, str] = {}
    owner_of: dict[str, ingest_store.EntryRow] = {}
    for e in entries:
        if _wants_page(e) and e.canonical_url not in stored and e.canonical_url not in link_of:
            link_of[e.canonical_url] = e.link
            owner_of[e.link] = e
    to_fetch = sorted(owner_of)
    pages: dict[str, _PageOutcome] = {}
    if to_fetch:
        own_fetcher = fetcher is None
        fetcher = fetcher or Fetcher(settings)
        robots = RobotsPolicy(settings, fetcher)
        try:
            with ThreadPoolExecutor(max_workers=settings.fetch_concurrency) as pool:
                pages = dict(zip(to_fetch, pool.map(lambda u: _fetch_page(fetcher, u, owner_of[u], robots),
                                                    to_fetch), strict=True))
        finally:
            if own_fetcher:
                fetcher.close()
    outcome.pages_fetched = sum(1 for p in pages.values() if p.fetched)
    outcome.fetch_failures = sum(1 for p in pages.values() if not p.fetched and not p.refused)

    candidates: list[article_store.ArticleCandidate] = []
    owners: list[ingest_store.EntryRow] = []
    closing: list[tuple[int, str, int | None, str | None, str | None, bool]] = []
    for entry in entries:
        if entry.canonical_url in stored and entry.version is None:
            closing.append((entry.id, "done", stored[entry.canonical_url], "url", None, False))
            continue
        page = pages.get(link_of.get(entry.canonical_url or "", "")) if _wants_page(entry) else None
        candidates.append(_candidate(entry, page, now))
        owners.append(entry)
    with transaction(settings.database_url) as conn:
        results = story_store.load_articles(conn, candidates, configured_thresholds(settings))
        for entry, cand, result in zip(owners, candidates, results, strict=True):
            page = pages.get(link_of.get(entry.canonical_url or "", "")) if _wants_page(entry) else None
            retry = (page is not None and not page.fetched and page.transient
                     and entry.attempts + 1 < settings.fetch_max_attempts)
            status = "retry" if retry else ("failed" if page is not None and not page.fetched else "done")
            closing.append((entry.id, status, result.article_id, result.dedup, cand.extraction_note,
                            page is not None))
        ingest_store.finish_entries(conn, closing)
    outcome.articles_new = sum(1 for r in results if r.dedup == "new")
    outcome.articles_updated = sum(1 for r in results if r.updated)
    outcome.stories_new = sum(1 for r in results if r.story_new)
    outcome.near_duplicates = sum(1 for r in results if r.story_join in ("near", "update"))
    outcome.versions_new = sum(1 for r in results if r.new_version)
    outcome.duplicates = sum(1 for c in closing if c[3] in ("url", "exact")) - outcome.articles_updated
    outcome.failures = [f"{url}: {p.error}" for url, p in pages.items() if p.error][:50]
    outcome.seconds = round(time.monotonic() - started, 3)
    log.info("batch of %d entries: %d page(s) fetched, %d failed, %d new article(s) (%d new stories, "
             "%d near-duplicates), %d updated (%d new versions), %d duplicate(s)", outcome.entries,
             outcome.pages_fetched, outcome.fetch_failures, outcome.articles_new, outcome.stories_new,
             outcome.near_duplicates, outcome.articles_updated, outcome.versions_new, outcome.duplicates)
    return outcome


# -- runs ----------------------------------------------------------------------------------------

def start_run(settings: Settings, dag_id: str, run_id: str, interval_start: datetime | None = None,
              interval_end: datetime | None = None) -> None:
    with transaction(settings.database_url) as conn:
        runs.start_run(conn, dag_id, run_id, interval_start, interval_end)


def summarize(polls: Sequence[dict[str, Any] | PollOutcome],
              batches: Sequence[dict[str, Any] | BatchOutcome]) -> dict[str, int]:
    """Run counters from the per-feed and per-batch outcomes."""
    polls = [p if isinstance(p, dict) else asdict(p) for p in polls]
    batches = [b if isinstance(b, dict) else asdict(b) for b in batches]
    polled = [p for p in polls if p["status"] != "skipped"]
    return {
        "feeds_polled": len(polled),
        "feeds_skipped": len(polls) - len(polled),
        "feeds_not_modified": sum(1 for p in polls if p["status"] == "not_modified"),
        "feeds_failed": sum(1 for p in polls if p["status"] in ("error", "unknown_source")),
        "entries_new": sum(p["entries_new"] for p in polls),
        "entries_updated": sum(p.get("entries_updated", 0) for p in polls),
        "pages_fetched": sum(b["pages_fetched"] for b in batches),
        "fetch_failures": sum(b["fetch_failures"] for b in batches),
        "articles_new": sum(b["articles_new"] for b in batches),
        "articles_updated": sum(b["articles_updated"] for b in batches),
        "duplicates": sum(b["duplicates"] for b in batches),
        "stories_new": sum(b.get("stories_new", 0) for b in batches),
        "near_duplicates": sum(b.get("near_duplicates", 0) for b in batches),
        "versions_new": sum(b.get("versions_new", 0) for b in batches),
    }


def finish_run(settings: Settings, dag_id: str, run_id: str,
               polls: Sequence[dict[str, Any] | PollOutcome],
               batches: Sequence[dict[str, Any] | BatchOutcome], *, failed: bool = False,
               tagged: int | dict[str, Any] | Sequence[dict[str, Any]] = 0,
               events: dict[str, Any] | None = None) -> dict[str, int]:
    """Record the run's counts (and the seconds spent per stage) in ``pipeline_runs``.

    ``tagged``: a count, a :func:`tag_stage` result, or the results of its shards (summed, like
    the seconds of the poll and process tasks)."""
    counts = summarize(polls, batches)
    tag_parts = tagged if isinstance(tagged, (list, tuple)) else [tagged]
    tag_infos = [t if isinstance(t, dict) else {"tagged": t, "seconds": 0.0} for t in tag_parts]
    counts["articles_tagged"] = sum(int(t.get("tagged", 0)) for t in tag_infos)
    polls_json = [p if isinstance(p, dict) else asdict(p) for p in polls]
    batches_json = [b if isinstance(b, dict) else asdict(b) for b in batches]
    details = {"feed_errors": {p["source"]: p["error"] for p in polls_json if p.get("error")},
               "feed_warnings": {p["source"]: p["warning"] for p in polls_json if p.get("warning")},
               "stage_seconds": {"poll": round(sum(p.get("seconds", 0.0) for p in polls_json), 3),
                                 "process": round(sum(b.get("seconds", 0.0) for b in batches_json), 3),
                                 "tag": round(sum(float(t.get("seconds", 0.0)) for t in tag_infos), 3)}}
    if events:
        details["stage_seconds"]["events"] = round(float(events.get("seconds", 0.0)), 3)
        details["events"] = {k: events[k] for k in ("stories", "new_events", "joined", "splits")
                             if k in events}
    with transaction(settings.database_url) as conn:
        runs.finish_run(conn, dag_id, run_id, counts, "failed" if failed else "success", details)
    return counts


def ingest_once(settings: Settings, run_id: str | None = None, dag_id: str = "newsmon_cli",
                force: bool = False) -> dict[str, int]:
    """The whole pipeline in this process: sync, poll every due feed (every feed with
    ``force``), process every batch."""
    run_id = run_id or f"cli__{datetime.now(UTC).isoformat()}"
    start_run(settings, dag_id, run_id)
    names = sync_sources(settings)
    with Fetcher(settings) as fetcher:
        polls = [poll_source(settings, name, fetcher, force=force) for name in names]
        batches = [process_entries(settings, ids, fetcher) for ids in plan_batches(settings)]
    tagged = tag_stage(settings)
    return finish_run(settings, dag_id, run_id, polls, batches, tagged=tagged, events=event_stage(settings))


# -- tagging -------------------------------------------------------------------------------------

def check_shard(shard: Sequence[int] | None) -> tuple[int, int] | None:
    """``shard`` as ``(index, count)``, checked: two integers, ``count >= 1``, ``0 <= index < count``.
    None (no sharding) stays None; anything else raises ValueError."""
    if shard is None:
        return None
    if (isinstance(shard, (str, bytes)) or not isinstance(shard, Sequence) or len(shard) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in shard)):
        raise ValueError(f"shard must be (index, count), two integers; got {shard!r}")
    index, count = shard
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be (index, count) with count >= 1 and 0 <= index < count; "
                         f"got {shard!r}")
    return index, count


def tag_articles(settings: Settings, batch_size: int = 500, limit: int | None = None,
                 shard: Sequence[int] | None = None) -> int:
    """Tag every article whose tags are missing or stale (new, or its text changed): entities,
    key phrases, topic terms, topic scores. Batches of ``batch_size``; returns how many.

    ``shard`` = ``(index, count)`` tags only the articles with ``id % count = index``, so that
    ``count`` tasks (processes, workers) split the work and can run at the same time."""
    from newsmon.tagging.annotation import annotate
    from newsmon.tagging.entities import default_gazetteer
    from newsmon.tagging.topics import load_topics

    part = check_shard(shard)
    gazetteer = default_gazetteer()
    topics = load_topics(gazetteer=gazetteer)
    with transaction(settings.database_url) as conn:
        tag_store.sync_entities(conn, gazetteer.entities)
    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        with transaction(settings.database_url) as conn:
            rows = tag_store.untagged_articles(conn, size, part)
        if not rows:
            break
        tags = []
        for article_id, title, text, language, tag_hash in rows:
            result = annotate(text, title, language, gazetteer=gazetteer, topics=topics,
                              ner=settings.ner == "auto")
            tags.append(tag_store.ArticleTags(
                article_id=article_id, tagged_hash=tag_hash, entities=result.entities,
                keywords=result.keywords,
                topics=[(name, t["score"], t["matched"], t["why"]) for name, t in result.topics.items()]))
        with transaction(settings.database_url) as conn:
            tag_store.save_tags(conn, tags)
        done += len(rows)
        log.info("tagged %d article(s) (%d so far%s)", len(rows), done,
                 f", shard {part[0]} of {part[1]}" if part else "")
    return done


def tag_stage(settings: Settings, shard: Sequence[int] | None = None) -> dict[str, Any]:
    """:func:`tag_articles` (of one ``shard``, if given) with its duration, for the run's stage
    metrics; JSON-serializable for XCom."""
    part = check_shard(shard)
    started = time.monotonic()
    tagged = tag_articles(settings, shard=part)
    out: dict[str, Any] = {"tagged": tagged, "seconds": round(time.monotonic() - started, 3)}
    if part is not None:
        out["shard"] = list(part)
    return out


# -- events --------------------------------------------------------------------------------------

def event_params(settings: Settings) -> Any:
    """The event thresholds configured in ``settings`` (NEWSMON_EVENT_*)."""
    from newsmon.events.cluster import Params

    return Params(window_hours=settings.event_window_hours, threshold=settings.event_threshold,
                  min_shared=settings.event_min_shared, split_threshold=settings.event_split_threshold)


def assign_events(settings: Settings, batch_size: int = 500, limit: int | None = None) -> dict[str, int]:
    """Place every tagged story that has no event yet in an event (joining one or starting one),
    oldest first, ``batch_size`` stories per transaction. Returns counts."""
    from newsmon.events import store as event_store

    params = event_params(settings)
    counts = {"stories": 0, "new_events": 0, "joined": 0, "splits": 0}
    while limit is None or counts["stories"] < limit:
        size = batch_size if limit is None else min(batch_size, limit - counts["stories"])
        with transaction(settings.database_url) as conn:
            ids = event_store.pending_stories(conn, size)
            if not ids:
                break
            links = event_store.assign_stories(conn, ids, params)
        counts["stories"] += len(ids)
        counts["joined"] += sum(1 for link in links if link.why.get("decision") == "joined")
        counts["new_events"] += sum(1 for link in links if link.why.get("decision") == "new")
        counts["splits"] += sum(1 for link in links if "split_from" in link.why)
        log.info("events: %d stor(ies) placed (%d so far: %d joined an event, %d started one)",
                 len(ids), counts["stories"], counts["joined"], counts["new_events"])
    return counts


def event_stage(settings: Settings) -> dict[str, Any]:
    """:func:`assign_events` with its duration, for the run's stage metrics (JSON for XCom)."""
    started = time.monotonic()
    out: dict[str, Any] = dict(assign_events(settings))
    out["seconds"] = round(time.monotonic() - started, 3)
    return out
