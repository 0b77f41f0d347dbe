"""Feed parsing: RSS and Atom through feedparser. Pure: takes bytes and headers, never a URL.

Like feedparser's ``bozo`` flag, a malformed feed is not an exception: the result carries an
``error`` (nothing usable) or a ``warning`` (items recovered from a damaged document).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import feedparser

from newsmon.core.text import fragment_text, normalize_language_code
from newsmon.core.timeparse import parse_datetime

MAX_FIELD_CHARS = 200_000
"""A single feed field larger than this is cut: a feed item is not a book."""


@dataclass(frozen=True)
class FeedEntry:
    """One feed item, reduced to what the pipeline uses."""

    guid: str
    link: str | None
    title: str | None
    summary: str  # plain text
    content: str  # plain text of the full content (content:encoded, atom:content), may be ''
    published_at: datetime | None
    author: str | None
    language: str | None
    tags: tuple[str, ...] = ()
    # agency wire fields (NewsML); None/empty for ordinary feeds
    version: int | None = None  # the item's version: a higher one replaces the stored text
    status: str = "usable"  # usable | canceled | withheld (pubStatus)
    dateline: str | None = None
    subjects: tuple[str, ...] = ()  # subject codes or names (IPTC media topics, ...)
    keywords: tuple[str, ...] = ()

    @property
    def best_text(self) -> str:
        """The longest text the feed itself carries: full content, else summary."""
        return self.content if len(self.content) >= len(self.summary) else self.summary


@dataclass(frozen=True)
class ParsedFeed:
    """The outcome of parsing one feed document."""

    entries: list[FeedEntry] = field(default_factory=list)
    format: str = ""  # feedparser's version string: rss20, atom10, ...
    title: str | None = None
    language: str | None = None
    error: str | None = None  # set when nothing usable came out
    warning: str | None = None  # set when items were recovered from a damaged or empty feed

    @property
    def ok(self) -> bool:
        return self.error is None


def _looks_like_html(content: bytes) -> bool:
    head = content[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _clip(text: str | None) -> str:
    return (text or "")[:MAX_FIELD_CHARS]


def _entry_content(entry: Any) -> str:
    parts = [c.get("value", "") for c in entry.get("content", []) or []]
    return fragment_text(_clip(max(parts, key=len))) if parts else ""


def _entry_guid(entry: Any, link: str | None, title: str | None, published: datetime | None) -> str:
    guid = (entry.get("id") or "").strip()
    if guid:
        return guid[:2000]
    if link:
        return link[:2000]
    seed = f"{title or ''}|{published.isoformat() if published else ''}|{entry.get('summary', '')[:500]}"
    return "sha1:" + hashlib.sha1(seed.encode("utf-8")).hexdigest()


def _entry(entry: Any, feed_language: str | None) -> FeedEntry:
    link = (entry.get("link") or "").strip() or None
    if link and not link.startswith(("http://", "https://")):
        link = None  # javascript:, mailto:, relative links that could not be resolved
    title = fragment_text(_clip(entry.get("title"))) or None
    published = parse_datetime(entry.get("published_parsed") or entry.get("updated_parsed")
                               or entry.get("published") or entry.get("updated"))
    language = None
    for detail in ("title_detail", "summary_detail"):
        language = language or normalize_language_code((entry.get(detail) or {}).get("language"))
    return FeedEntry(
        guid=_entry_guid(entry, link, title, published),
        link=link,
        title=title,
        summary=fragment_text(_clip(entry.get("summary"))),
        content=_entry_content(entry),
        published_at=published,
        author=(entry.get("author") or "").strip() or None,
        language=language or feed_language,
        tags=tuple(t.get("term", "").strip() for t in entry.get("tags", []) or [] if t.get("term")),
    )


def parse_feed(content: bytes, headers: dict[str, str] | None = None,
               url: str | None = None) -> ParsedFeed:
    """Parse an RSS or Atom document given as bytes (with its HTTP headers for the charset
    and ``url`` to resolve relative links). Never raises on bad input."""
    if not content or not content.strip():
        return ParsedFeed(error="empty document: the server returned no content")
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if url:
        response_headers.setdefault("content-location", url)
    try:
        parsed = feedparser.parse(content, response_headers=response_headers)
    except Exception as exc:  # feedparser is defensive, but hostile input has crashed it before
        return ParsedFeed(error=f"feed parser crashed: {type(exc).__name__}: {exc}")
    version = parsed.get("version") or ""
    feed_info = parsed.get("feed", {})
    feed_language = normalize_language_code(feed_info.get("language")) or normalize_language_code(
        (feed_info.get("title_detail") or {}).get("language"))
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    entries = []
    for raw in parsed.get("entries", []):
        entry = _entry(raw, feed_language)
        if entry.link or entry.best_text or entry.title:
            entries.append(entry)
    title = fragment_text(feed_info.get("title")) or None
    if not entries:
        if not version:
            if _looks_like_html(content):
                return ParsedFeed(error="not a feed: the URL returned an HTML page")
            reason = f"{type(bozo).__name__}: {bozo}" if bozo else "unknown format"
            return ParsedFeed(error=f"not a feed: could not parse as RSS or Atom ({reason})")
        if bozo:
            return ParsedFeed(format=version, title=title, language=feed_language,
                              error=f"malformed {version} feed with no items: {bozo}")
        return ParsedFeed(format=version, title=title, language=feed_language,
                          warning="the feed is valid but contains no items")
    warning = f"malformed feed, {len(entries)} item(s) recovered: {bozo}" if bozo else None
    return ParsedFeed(entries=entries, format=version, title=title, language=feed_language,
                      warning=warning)
