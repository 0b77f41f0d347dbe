"""``newsmon import``: archives and drops of local files through the same processing and load
as fetched articles. The kind of each file is sniffed from its content (not only its name):
HTML pages, plain-text dumps (first line ``date YYYY-MM[-DD]``), saved RSS/Atom/JSON Feed
files, NewsML-G2 / NewsML 1.2, JSON Lines (``url, title, text, published, language`` per line),
each optionally gzipped. A bad file (or line) is reported with its reason; the rest loads.
Rerunning an import loads nothing twice."""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from newsmon.articles import store as article_store
from newsmon.articles.documents import Document, DocumentError, document_from_bytes, iter_files, read_bytes
from newsmon.articles.hashing import content_hash
from newsmon.articles.language import detect_language
from newsmon.core.config import Settings
from newsmon.core.db import transaction
from newsmon.core.timeparse import parse_datetime
from newsmon.ingest.feeds import FeedEntry
from newsmon.ingest.formats import parse_any, sniff_format
from newsmon.ingest.urls import canonicalize_url
from newsmon.stories import store as story_store
from newsmon.stories.neardup import configured_thresholds, fingerprint

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
        content_hash=content_hash(doc.text), text_source="file", extraction_status="ok",
        fingerprint=fingerprint(doc.text))


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
        content_hash=content_hash(text), text_source="file" if text or not entry.title else "title_only",
        extraction_status="not_fetched", extraction_note=f"imported from {path.name}",
        fingerprint=fingerprint(text),
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
            content_hash=content_hash(text), text_source="file" if text else "title_only",
            extraction_status="ok", fingerprint=fingerprint(text)))
    return candidates


def _file_candidates(path: Path, report: ImportReport) -> list[article_store.ArticleCandidate]:
    """The articles in one file; raises DocumentError when the whole file is unusable."""
    data = read_bytes(path)
    jsonl_name = path.name.lower().removesuffix(".gz").endswith((".jsonl", ".ndjson"))
    hint = "application/x-ndjson" if jsonl_name else None  # the name is a hint, the content decides
    kind = sniff_format(data, hint)
    report.by_kind[kind] += 1
    candidates = _candidates_of_kind(kind, data, path, report)
    report.articles_by_kind[kind] += len(candidates)
    return candidates


def _candidates_of_kind(kind: str, data: bytes, path: Path,
                        report: ImportReport) -> list[article_store.ArticleCandidate]:
    if kind in ("html", "text"):
        return [_candidate(document_from_bytes(path, data))]
    if kind == "jsonl":
        return _jsonl_candidates(data, path, report)
    if kind in FEED_KINDS:
        parsed = parse_any(data, url=path.resolve().as_uri())
        if not parsed.ok:
            raise DocumentError(parsed.error or f"unreadable {kind} file")
        candidates = [c for c in (_entry_candidate(e, path) for e in parsed.entries) if c is not None]
        if not candidates:
            raise DocumentError(f"{kind} file with no article text" +
                                (f" ({parsed.warning})" if parsed.warning else ""))
        return candidates
    raise DocumentError("unknown kind of file: not HTML, text, a feed, NewsML or JSON Lines")


def import_paths(settings: Settings, paths: list[str | Path], progress: bool = True,
                 since: datetime | None = None, until: datetime | None = None) -> ImportReport:
    """Read every file under ``paths`` and load them in batches; rerunning imports nothing twice.
    With ``since``/``until`` (a backfill window), only articles published in [since, until) load;
    articles without a date are skipped then (counted in ``outside_window``)."""
    from tqdm import tqdm

    files = iter_files(paths)
    report = ImportReport(files=len(files))
    chunk: list[article_store.ArticleCandidate] = []
    thresholds = configured_thresholds(settings)

    def flush() -> None:
        if not chunk:
            return
        with transaction(settings.database_url) as conn:
            outcomes = story_store.load_articles(conn, chunk, thresholds)
        report.articles_new += sum(1 for o in outcomes if o.dedup == "new")
        report.articles_updated += sum(1 for o in outcomes if o.updated)
        report.duplicates += sum(1 for o in outcomes if o.dedup != "new" and not o.updated)
        chunk.clear()

    bar = tqdm(files, unit="file", disable=not progress, file=sys.stderr, desc="import")
    for path in bar:
        try:
            candidates = _file_candidates(path, report)
        except DocumentError as exc:
            report.rejected.append((str(path), str(exc)))
            continue
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
    flush()
    bar.close()
    return report

