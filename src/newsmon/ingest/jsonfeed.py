"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org) to feed entries.

Pure: takes bytes, never fetches (``url`` only resolves relative item URLs). Like ``parse_feed``,
bad input is not an exception: invalid JSON, a document that is not an object or has no
``items`` array gives an ``error``; a valid feed with no usable item gives a ``warning``.
Fields of the wrong JSON type are ignored, not trusted: the format is often hand-written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from newsmon.core.text import fragment_text, normalize_language_code
from newsmon.core.timeparse import parse_datetime
from newsmon.ingest.feeds import MAX_FIELD_CHARS, FeedEntry, ParsedFeed

_VERSIONS = {"https://jsonfeed.org/version/1": "json1", "https://jsonfeed.org/version/1.1": "json11"}
"""The ``version`` URLs, mapped to feedparser's names for the same formats."""


def _string(value: Any) -> str | None:
    """A non-empty string field, stripped and clipped; any other JSON type is ignored."""
    if isinstance(value, str) and value.strip():
        return value.strip()[:MAX_FIELD_CHARS]
    return None


def _html_text(value: Any) -> str:
    text = _string(value)
    return fragment_text(text)[:MAX_FIELD_CHARS] if text else ""


def _link(value: Any, base: str | None) -> str | None:
    href = _string(value)
    if not href:
        return None
    link = urljoin(base, href) if base else href
    return link[:2000] if link.startswith(("http://", "https://")) else None


def _authors(container: dict[str, Any]) -> str | None:
    """``authors`` (1.1, a list) or ``author`` (1.0, one object): names joined with ', '."""
    people = container.get("authors")
    if not isinstance(people, list):
        people = [container.get("author")]
    names = [_string(p.get("name")) for p in people if isinstance(p, dict)]
    joined = ", ".join(n for n in names if n)
    return joined[:500] or None


def _guid(item: dict[str, Any], link: str | None, title: str | None, published: datetime | None,
          text: str) -> str:
    raw_id = item.get("id")
    if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)  # the spec says string; numbers are common in the wild
    guid = _string(raw_id)
    if guid:
        return guid[:2000]
    if link:
        return link
    seed = f"{title or ''}|{published.isoformat() if published else ''}|{text[:500]}"
    return "sha1:" + hashlib.sha1(seed.encode("utf-8")).hexdigest()


def _entry(item: dict[str, Any], feed: dict[str, Any], feed_language: str | None,
           base: str | None) -> FeedEntry:
    link = _link(item.get("url"), base) or _link(item.get("external_url"), base)
    title = fragment_text(_string(item.get("title"))) or None
    content = _html_text(item.get("content_html")) or _html_text(item.get("content_text"))
    summary = _html_text(item.get("summary"))
    published = parse_datetime(_string(item.get("date_published"))) or parse_datetime(
        _string(item.get("date_modified")))
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    return FeedEntry(
        guid=_guid(item, link, title, published, content or summary),
        link=link,
        title=title,
        summary=summary,
        content=content,
        published_at=published,
        author=_authors(item) or _authors(feed),
        language=normalize_language_code(_string(item.get("language"))) or feed_language,
        tags=tuple(t.strip()[:200] for t in tags if isinstance(t, str) and t.strip()),
    )


def parse_jsonfeed(content: bytes, url: str | None = None) -> ParsedFeed:
    """Parse a JSON Feed document given as bytes. Never raises on bad input."""
    if not content or not content.strip():
        return ParsedFeed(error="empty document: the server returned no content")
    try:
        data = json.loads(content)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return ParsedFeed(error=f"not a feed: invalid JSON ({type(exc).__name__}: {exc})")
    if not isinstance(data, dict):
        found = type(data).__name__
        return ParsedFeed(error=f"not a JSON Feed: the document is a JSON {found}, not an object")
    try:
        version = _string(data.get("version"))
        fmt = _VERSIONS.get((version or "").rstrip("/"), "json")
        items = data.get("items")
        if not isinstance(items, list):
            found = "missing" if items is None else f"a {type(items).__name__}"
            return ParsedFeed(format=fmt, error=f"not a JSON Feed: the 'items' array is {found}")
        feed_language = normalize_language_code(_string(data.get("language")))
        title = fragment_text(_string(data.get("title"))) or None
        entries = []
        for item in items:
            if not isinstance(item, dict):
                continue
            entry = _entry(item, data, feed_language, url)
            if entry.link or entry.best_text or entry.title:
                entries.append(entry)
    except Exception as exc:  # a bug or a pathological document: a result, never a crash
        return ParsedFeed(error=f"JSON Feed parser crashed: {type(exc).__name__}: {exc}")
    if not entries:
        warning = ("the feed is valid but contains no items" if not items
                   else f"none of the feed's {len(items)} item(s) has a link, a title or text")
        return ParsedFeed(format=fmt, title=title, language=feed_language, warning=warning)
    return ParsedFeed(entries=entries, format=fmt, title=title, language=feed_language)
