"""``newsmon import``: archives and drops of local files through the same processing and load
as fetched articles. The kind of each file is sniffed from its content (not only its name):
HTML pages, plain-text dumps (first line ``date YYYY-MM[-DD]``), saved RSS/Atom/JSON Feed
files, NewsML-G2 / NewsML 1.2, JSON Lines (``url, title, text, published, language`` per line),
each optionally gzipped. A bad file (or line) is reported with its reason; the rest loads.
Rerunning an import loads nothing twice.

Files are read, extracted and fingerprinted by ``workers`` processes (default: one per core);
the main process loads their articles in file order, in the same batches as one worker would,
so the database ends in the same state whatever the number of workers. Every article keeps the
``file://`` URL of its file in ``source_file``."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsmon.articles import store as article_store
from newsmon.articles.documents import Document, DocumentError, document_from_bytes, iter_files, read_bytes
from newsmon.articles.language import detect_language
from newsmon.core.config import Settings
from newsmon.core.db import transaction
from newsmon.core.timeparse import parse_datetime
from newsmon.ingest.feeds import FeedEntry
from newsmon.ingest.formats import parse_any, sniff_format
from newsmon.ingest.urls import canonicalize_url
from newsmon.stories import store as story_store
from newsmon.stories.neardup import configured_thresholds, text_keys

CHUNK = 200
FEED_KINDS = {"rss", "atom", "jsonfeed", "newsml-g2", "newsml-1"}


@dataclass
class ImportReport:
    files: int = 0
    articles_read: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    duplicates: int = 0
    outside_window: int = 0  # articles skipped by --since/--until (or without a date when filtering)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)  # files per sniffed kind
    articles_by_kind: Counter[str] = field(default_factory=Counter)


def _candidate(doc: Document) -> article_store.ArticleCandidate:
    url = doc.canonical_url or Path(doc.path).resolve().as_uri()
    return article_store.ArticleCandidate(
        canonical_url=url, url=url, source_id=None, title=doc.title, text=doc.text, author=None,
        language=doc.language.language, language_prob=doc.language.probability,
        language_method=doc.language.method, published_at=doc.published_at, fetched_at=None,
        content_hash=None, text_source="file", extraction_status="ok")  # keys: _with_text_keys


def _with_text_keys(candidates: list[article_store.ArticleCandidate]) -> list[article_store.ArticleCandidate]:
    """Content hash and MinHash fingerprint of every candidate of a file, in one bulk pass
    (each text normalized once for both)."""
    for candidate, (text_hash, signature) in zip(candidates, text_keys([c.text for c in candidates]),
                                                 strict=True):
        candidate.content_hash, candidate.fingerprint = text_hash, signature
    return candidates


def _entry_candidate(entry: FeedEntry, path: Path) -> article_store.ArticleCandidate | None:
    """An article from an item of a saved feed or agency file (its own text, no page fetch); an
    item with a title and no body is a headline-only article (``title_only``)."""
    text = entry.best_text
    if not text and not entry.title and entry.status == "usable":
        return None
    url = canonicalize_url(entry.link) if entry.link else f"urn:newsmon:import:{entry.guid}"
    language = detect_language(text or entry.title, entry.language)
    return article_store.ArticleCandidate(
        canonical_url=url, url=entry.link or url, source_id=None, title=entry.title, text=text,
        author=entry.author, language=language.language, language_prob=language.probability,
        language_method=language.method, published_at=entry.published_at, fetched_at=None,
        content_hash=None, text_source="file" if text or not entry.title else "title_only",
        extraction_status="not_fetched", extraction_note=f"imported from {path.name}",  # keys: below
        pub_status=entry.status, agency_guid=entry.guid if entry.version is not None else None,
        agency_version=entry.version)


def _jsonl_candidates(data: bytes, path: Path, report: ImportReport) -> list[article_store.ArticleCandidate]:
    candidates = []
    for number, line in enumerate(data.decode("utf-8-sig", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            report.rejected.append((where, f"invalid JSON: {exc.msg}"))
            continue
        raw_title = record.get("title") if isinstance(record, dict) else None
        title = (raw_title.strip() or None) if isinstance(raw_title, str) else None
        if not isinstance(record, dict) or not (str(record.get("text") or "").strip() or title):
            report.rejected.append((where, "expected an object with a non-empty 'text' or 'title'"))
            continue
        url = record.get("url") if isinstance(record.get("url"), str) else None
        published = record.get("published")
        published_at = parse_datetime(published) if isinstance(published, str) else None
        if published and published_at is None:
            report.rejected.append((where, f"unparsable 'published': {published!r}"))
            continue
        text = str(record.get("text") or "").strip()  # empty: a headline-only item
        language = detect_language(text or title, record.get("language")
                                   if isinstance(record.get("language"), str) else None)
        if url and url.startswith(("http://", "https://")):
            canonical = canonicalize_url(url)
        else:
            canonical = url or f"urn:newsmon:import:{path.name}:{number}"
        candidates.append(article_store.ArticleCandidate(
            canonical_url=canonical, url=url or canonical, source_id=None, title=title, text=text,
            author=None, language=language.language, language_prob=language.probability,
            language_method=language.method, published_at=published_at, fetched_at=None,
            content_hash=None, text_source="file" if text else "title_only",
            extraction_status="ok"))  # keys: _with_text_keys
    return _with_text_keys(candidates)


def _file_candidates(path: Path, report: ImportReport) -> list[article_store.ArticleCandidate]:
    """The articles in one file; raises DocumentError when the whole file is unusable."""
    data = read_bytes(path)
    jsonl_name = path.name.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson"))
    hint = "application/x-ndjson" if jsonl_name else None  # the name is a hint, the content decides
    kind = sniff_format(data, hint)
    report.by_kind[kind] += 1
    candidates = _candidates_of_kind(kind, data, path, report)
    report.articles_by_kind[kind] += len(candidates)
    source_file = path.resolve().as_uri()
    for candidate in candidates:
        candidate.source_file = source_file
    return candidates


def _candidates_of_kind(kind: str, data: bytes, path: Path,
                        report: ImportReport) -> list[article_store.ArticleCandidate]:
    if kind in ("html", "text"):
        return _with_text_keys([_candidate(document_from_bytes(path, data))])
    if kind == "jsonl":
        return _jsonl_candidates(data, path, report)
    if kind in FEED_KINDS:
        parsed = parse_any(data, url=path.resolve().as_uri())
        if not parsed.ok:
            raise DocumentError(parsed.error or f"unreadable {kind} file")
        candidates = _with_text_keys([c for c in (_entry_candidate(e, path) for e in parsed.entries)
                                      if c is not None])
        if not candidates:
            raise DocumentError(f"{kind} file with no article text" +
                                (f" ({parsed.warning})" if parsed.warning else ""))
        return candidates
    raise DocumentError("unknown kind of file: not HTML, text, a feed, NewsML or JSON Lines")


@dataclass
class _FileResult:
    """What one file gave, computed in a worker: its own report (kinds, rejected lines), its
    articles, and the reason when the whole file was rejected."""

    report: ImportReport
    candidates: list[article_store.ArticleCandidate]
    error: str | None = None


def _read_file(path: Path) -> _FileResult:
    """One file's articles (run in a worker process; pure apart from reading the file)."""
    local = ImportReport()
    try:
        return _FileResult(local, _file_candidates(path, local))
    except DocumentError as exc:
        return _FileResult(local, [], str(exc))


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _results(files: list[Path], workers: int) -> Iterator[_FileResult]:
    """Every file's result, in file order, from ``workers`` processes (in-process for one)."""
    if workers <= 1 or len(files) <= 1:
        yield from map(_read_file, files)
        return
    import multiprocessing

    from newsmon.articles.language import warm_up

    # fork shares what this process has loaded (langdetect's profiles: loaded once, not per worker),
    # but forking a process that runs other threads can copy a lock another thread holds and hang the
    # child: fork only when this is the only thread (the `newsmon import` command), else start the
    # workers from a fresh single-threaded server (a test process, an embedding application)
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        warm_up()
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    chunksize = max(1, min(8, len(files) // (workers * 8)))
    with context.Pool(min(workers, len(files))) as pool:
        yield from pool.imap(_read_file, files, chunksize=chunksize)


def import_paths(settings: Settings, paths: list[str | Path], progress: bool = True,
                 since: datetime | None = None, until: datetime | None = None,
                 workers: int | None = None) -> ImportReport:
    """Read every file under ``paths`` and load them in batches; rerunning imports nothing twice.
    With ``since``/``until`` (a backfill window), only articles published in [since, until) load;
    articles without a date are skipped then (counted in ``outside_window``). ``workers``
    processes read and extract the files (default: one per core); the loads happen here, in
    file order, so the result does not depend on their number."""
    files = iter_files(paths)
    report = ImportReport(files=len(files))
    chunk: list[article_store.ArticleCandidate] = []
    thresholds = configured_thresholds(settings)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")

    # Loads run on one background thread, one batch at a time and in order (the same batches,
    # so the same database state): while PostgreSQL works on a batch, the next files are read.
    loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-import-load")
    pending: Future[None] | None = None

    def load(batch: list[article_store.ArticleCandidate]) -> None:
        with transaction(settings.database_url) as conn:
            outcomes = story_store.load_articles(conn, batch, thresholds)
        report.articles_new += sum(1 for o in outcomes if o.dedup == "new")
        report.articles_updated += sum(1 for o in outcomes if o.updated)
        report.duplicates += sum(1 for o in outcomes if o.dedup != "new" and not o.updated)

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            pending.result()  # the previous batch is loaded (or its error raised) first
            pending = None
        if chunk:
            pending = loader.submit(load, list(chunk))
            chunk.clear()

    try:
        _read_and_load(files, workers, report, chunk, flush, progress, since, until)
        flush()
        flush()  # waits for the last batch
    finally:
        loader.shutdown(wait=True, cancel_futures=True)
    return report


def _read_and_load(files: list[Path], workers: int, report: ImportReport,
                   chunk: list[article_store.ArticleCandidate], flush: Callable[[], None], progress: bool,
                   since: datetime | None, until: datetime | None) -> None:
    """Every file's result merged into ``report`` in file order, its articles batched for ``flush``."""
    from tqdm import tqdm

    results = _results(files, workers)
    bar = tqdm(total=len(files), unit="file", disable=not progress, file=sys.stderr, desc="import")
    for path, result in zip(files, results, strict=True):
        bar.update()
        report.by_kind.update(result.report.by_kind)
        report.articles_by_kind.update(result.report.articles_by_kind)
        report.rejected.extend(result.report.rejected)
        if result.error is not None:
            report.rejected.append((str(path), result.error))
            continue
        candidates = result.candidates
        report.articles_read += len(candidates)
        if since is not None or until is not None:
            kept = [c for c in candidates if c.published_at is not None
                    and (since is None or c.published_at >= since)
                    and (until is None or c.published_at < until)]
            report.outside_window += len(candidates) - len(kept)
            candidates = kept
        chunk.extend(candidates)
        if len(chunk) >= CHUNK:
            flush()
    bar.close()
