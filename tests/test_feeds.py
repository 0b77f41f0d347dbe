"""Feed parsing, driven by the files in tests/fixtures/feeds.

Each fixture opens (right after the XML declaration, when it has one) with a comment holding a
``Description:`` and machine-readable expectations, in the spirit of feedparser's test suite::

    Expect: entries=2 error=none warning=none language=fr format=rss20 title="..." guids=a|a|b
    Expect-entry: 0 guid=... link=none title="..." published=2026-11-23T07:30:00+00:00 \
        content~="substring" content!~="absent" content_lines=2 tags=a|b

``error``/``warning`` values are substrings (``none``: must be None); ``key~=`` is a substring,
``key!~=`` a substring that must be absent; ``none`` means None; ``|`` separates list items.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from newsmon.ingest.feeds import MAX_FIELD_CHARS, FeedEntry, ParsedFeed, parse_feed

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FEED_FILES = sorted(FIXTURES.glob("*.xml"))
_HEADER_RE = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?<!--(.*?)-->", re.DOTALL)


def _pairs(tokens: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for token in tokens:
        key, sep, value = token.partition("=")
        assert sep, f"expectation {token!r} is not key=value"
        pairs.append((key, value))
    return pairs


def read_expectations(path: Path) -> tuple[str, list[tuple[str, str]], dict[int, list[tuple[str, str]]]]:
    """The fixture's header comment: (description, feed expectations, per-entry expectations)."""
    match = _HEADER_RE.match(path.read_bytes())
    assert match, f"{path.name} does not open with a header comment"
    header = match.group(1).decode("latin-1" if b'encoding="ISO-8859-1"' in match.group(0) else "utf-8")
    description = ""
    feed: list[tuple[str, str]] = []
    entries: dict[int, list[tuple[str, str]]] = {}
    for line in header.splitlines():
        line = line.strip()
        if line.startswith("Description:"):
            description = line.removeprefix("Description:").strip()
        elif line.startswith("Expect:"):
            feed += _pairs(shlex.split(line.removeprefix("Expect:")))
        elif line.startswith("Expect-entry:"):
            index, *tokens = shlex.split(line.removeprefix("Expect-entry:"))
            entries.setdefault(int(index), []).extend(_pairs(tokens))
    return description, feed, entries


def _check_optional_text(what: str, actual: str | None, expected: str) -> None:
    if expected == "none":
        assert actual is None, f"{what}: expected None, got {actual!r}"
    else:
        assert actual is not None and expected in actual, f"{what}: {expected!r} not in {actual!r}"


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return "|".join(value)
    return str(value)


def check_feed(parsed: ParsedFeed, expected: list[tuple[str, str]]) -> None:
    for key, value in expected:
        if key == "entries":
            assert len(parsed.entries) == int(value), f"entries: {len(parsed.entries)} != {value}"
        elif key in ("error", "warning"):
            _check_optional_text(key, getattr(parsed, key), value)
        elif key == "guids":
            guids = [e.guid for e in parsed.entries]
            assert guids == value.split("|"), f"guids: {guids} != {value!r}"
        elif key in ("language", "format", "title"):
            actual = getattr(parsed, key)
            assert actual == (None if value == "none" else value), f"{key}: {actual!r} != {value!r}"
        else:
            raise AssertionError(f"unknown feed expectation {key!r}")


def check_entry(entry: FeedEntry, expected: list[tuple[str, str]]) -> None:
    for key, value in expected:
        if key.endswith("!~"):
            text = _as_text(getattr(entry, key[:-2])) or ""
            assert value not in text, f"{key[:-2]}: {value!r} should not be in {text!r}"
        elif key.endswith("~"):
            text = _as_text(getattr(entry, key[:-1]))
            assert text is not None and value in text, f"{key[:-1]}: {value!r} not in {text!r}"
        elif key.endswith("_lines"):
            text = getattr(entry, key.removesuffix("_lines"))
            assert len(text.splitlines()) == int(value), f"{key}: {text!r}"
        elif key == "published":
            expected_at = None if value == "none" else datetime.fromisoformat(value)
            assert entry.published_at == expected_at, f"published: {entry.published_at} != {value}"
        else:
            actual = _as_text(getattr(entry, key))
            assert actual == (None if value == "none" else value), f"{key}: {actual!r} != {value!r}"


def test_fixtures_present() -> None:
    """The data-driven tests below actually have fixtures to run on."""
    assert len(FEED_FILES) >= 15


@pytest.mark.parametrize("path", FEED_FILES, ids=[p.name for p in FEED_FILES])
def test_feed_fixture(path: Path) -> None:
    """The fixture parses as its header comment's Expect lines say."""
    description, feed_expected, entry_expected = read_expectations(path)
    assert description and feed_expected, f"{path.name}: Description and Expect are required"
    parsed = parse_feed(path.read_bytes())
    assert parsed.ok == (parsed.error is None)
    check_feed(parsed, feed_expected)
    for index, expected in entry_expected.items():
        assert index < len(parsed.entries), f"no entry {index}"
        check_entry(parsed.entries[index], expected)


@pytest.mark.parametrize("path", FEED_FILES, ids=[p.name for p in FEED_FILES])
def test_feed_fixture_invariants(path: Path) -> None:
    """Whatever the input: a recorded outcome (entries, an error or a warning), error and entries
    exclude each other, links are http(s), guids set."""
    parsed = parse_feed(path.read_bytes())
    assert parsed.error or parsed.entries or parsed.warning, f"{path.name}: no entries, error or warning"
    if parsed.error:
        assert parsed.entries == [] and parsed.warning is None
    for entry in parsed.entries:
        assert entry.guid
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published_at is None or entry.published_at.tzinfo is not None


def test_relative_link_resolved_against_the_feed_url() -> None:
    """An RSS item with a relative link is resolved against the URL the feed was fetched from."""
    feed = (b"<rss version='2.0'><channel><title>T</title><item><title>Tram works</title>"
            b"<link>/news/tram-works.html</link><description>Works start in May.</description>"
            b"</item></channel></rss>")
    with_url = parse_feed(feed, url="https://riverton-daily.example/feeds/rss.xml")
    assert with_url.entries[0].link == "https://riverton-daily.example/news/tram-works.html"
    assert with_url.entries[0].guid == "https://riverton-daily.example/news/tram-works.html"
    without_url = parse_feed(feed)
    assert without_url.entries[0].link is None  # unresolvable: never fetched
    assert without_url.entries[0].title == "Tram works"


def test_charset_from_http_headers() -> None:
    """Without an XML encoding declaration, the HTTP Content-Type charset decodes the bytes."""
    feed = ("<rss version='2.0'><channel><title>Société</title><item><title>Fête à Genève</title>"
            "<link>https://gazette-leman.example/fete</link></item></channel></rss>").encode("iso-8859-1")
    parsed = parse_feed(feed, headers={"Content-Type": "application/rss+xml; charset=ISO-8859-1"})
    assert parsed.title == "Société"
    assert parsed.entries[0].title == "Fête à Genève"


@pytest.mark.parametrize("content", [b"", b"   \n\t  "])
def test_empty_document_is_an_error(content: bytes) -> None:
    """No bytes (or only white space) is an error, not an empty feed."""
    parsed = parse_feed(content)
    assert not parsed.ok
    assert parsed.error is not None and "empty document" in parsed.error


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 16,
    b"\x1f\x8b\x08\x00" + b"\x00\xff" * 1000,
    b'{"items": [{"title": "not a feed"}]}',
    b"<rss version='2.0'><channel><item><title>x</title>" + b"<b>" * 5000,
])
def test_hostile_input_never_raises(content: bytes) -> None:
    """Garbage, JSON or deeply nested tags give a result object, never an exception."""
    parsed = parse_feed(content)
    assert isinstance(parsed, ParsedFeed)
    assert parsed.error or parsed.entries or parsed.warning


def test_oversized_field_is_clipped() -> None:
    """A description larger than MAX_FIELD_CHARS is cut to that size."""
    huge = "word " * (MAX_FIELD_CHARS // 4)
    feed = (f"<rss version='2.0'><channel><title>T</title><item><title>Long</title>"
            f"<link>https://news.example/long</link><description>{huge}</description>"
            f"</item></channel></rss>").encode()
    parsed = parse_feed(feed)
    assert 0 < len(parsed.entries[0].summary) <= MAX_FIELD_CHARS


def test_best_text_prefers_the_longer_of_content_and_summary() -> None:
    """best_text is the full content when it is longer than the summary, else the summary."""
    base = dict(guid="g", link=None, title=None, published_at=None, author=None, language=None)
    assert FeedEntry(summary="short", content="a much longer full text", **base).best_text == \
        "a much longer full text"
    assert FeedEntry(summary="a summary longer than content", content="tiny", **base).best_text == \
        "a summary longer than content"
    assert FeedEntry(summary="only summary", content="", **base).best_text == "only summary"


def test_item_with_nothing_usable_is_skipped() -> None:
    """An item with no link, no title and no text carries nothing to store and is left out."""
    feed = (b"<rss version='2.0'><channel><title>T</title><language>en</language>"
            b"<item><guid>empty-1</guid></item>"
            b"<item><title>Kept</title><guid>kept-1</guid></item></channel></rss>")
    parsed = parse_feed(feed)
    assert [e.guid for e in parsed.entries] == ["kept-1"]
