"""The articles stage's SQL: the row an article is stored as, and look-ups by URL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsmon.core.db import Connection

if TYPE_CHECKING:  # the stories stage computes it; an article only carries it
    from newsmon.stories.neardup import Fingerprint


@dataclass
class ArticleCandidate:
    """One article ready to load, built from a feed entry, a page or a local file."""

    canonical_url: str
    url: str
    source_id: int | None
    title: str | None
    text: str
    author: str | None
    language: str
    language_prob: float | None
    language_method: str
    published_at: datetime | None
    fetched_at: datetime | None
    content_hash: str | None
    text_source: str  # page | feed | file | title_only (a headline, empty text)
    extraction_status: str  # ok | page_unavailable | no_article_text | not_fetched
    extraction_note: str | None = None
    fingerprint: Fingerprint | None = None  # near-duplicate signature of ``text``
    pub_status: str = "usable"  # usable | canceled | withheld (agency items)
    agency_guid: str | None = None
    agency_version: int | None = None
    source_file: str | None = None  # file:// URL of an imported file (provenance)


ARTICLE_COLUMNS = ("canonical_url", "url", "source_id", "title", "text", "author", "language",
                    "language_prob", "language_method", "published_at", "fetched_at", "content_hash",
                    "text_source", "extraction_status", "extraction_note", "pub_status", "agency_guid",
                    "agency_version", "source_file")


_CASTS = {"source_id": "integer", "language_prob": "real", "published_at": "timestamptz",
          "fetched_at": "timestamptz", "agency_version": "integer"}
ARTICLE_TEMPLATE = "(" + ", ".join(f"%s::{_CASTS.get(c, 'text')}" for c in ARTICLE_COLUMNS) + ")"


def candidate_row(candidate: ArticleCandidate) -> tuple[Any, ...]:
    return tuple(getattr(candidate, column) for column in ARTICLE_COLUMNS)


def page_articles_by_url(conn: Connection, canonical_urls: Iterable[str]) -> dict[str, int]:
    """Articles already stored with page text, by canonical URL (no need to fetch them again)."""
    urls = list(set(canonical_urls))
    if not urls:
        return {}
    with conn.cursor() as cur:
        cur.execute("""SELECT canonical_url, id FROM articles
                       WHERE canonical_url = ANY(%s) AND text_source = 'page'""", (urls,))
        return dict(cur.fetchall())
