"""``newsmon import``: local HTML and plain-text files through the same processing and load
as fetched articles. A bad file is reported with its reason and the rest still loads."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from newsmon import store
from newsmon.config import Settings, dedup_thresholds
from newsmon.db import transaction
from newsmon.deduplication import content_hash
from newsmon.documents import Document, DocumentError, iter_files, read_document
from newsmon.stories import fingerprint

CHUNK = 200


@dataclass
class ImportReport:
    files: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _candidate(doc: Document) -> store.ArticleCandidate:
    url = doc.canonical_url or Path(doc.path).resolve().as_uri()
    return store.ArticleCandidate(
        canonical_url=url, url=url, source_id=None, title=doc.title, text=doc.text, author=None,
        language=doc.language.language, language_prob=doc.language.probability,
        language_method=doc.language.method, published_at=doc.published_at, fetched_at=None,
        content_hash=content_hash(doc.text), text_source="file", extraction_status="ok",
        fingerprint=fingerprint(doc.text))


def import_paths(settings: Settings, paths: list[str | Path], progress: bool = True) -> ImportReport:
    """Read every file under ``paths`` and load them in batches; rerunning imports nothing twice."""
    from tqdm import tqdm

    files = iter_files(paths)
    report = ImportReport(files=len(files))
    chunk: list[store.ArticleCandidate] = []

    def flush() -> None:
        if not chunk:
            return
        with transaction(settings.database_url) as conn:
            outcomes = store.load_articles(conn, chunk, dedup_thresholds(settings))
        report.articles_new += sum(1 for o in outcomes if o.dedup == "new")
        report.articles_updated += sum(1 for o in outcomes if o.updated)
        report.duplicates += sum(1 for o in outcomes if o.dedup != "new" and not o.updated)
        chunk.clear()

    bar = tqdm(files, unit="file", disable=not progress, file=sys.stderr, desc="import")
    for path in bar:
        try:
            chunk.append(_candidate(read_document(path)))
        except DocumentError as exc:
            report.rejected.append((str(path), str(exc)))
            continue
        if len(chunk) >= CHUNK:
            flush()
    flush()
    bar.close()
    return report
