"""JSON Feed parsing, driven by the files in tests/fixtures/jsonfeed.

Each fixture states its expectations in a top-level ``"_expect"`` key (ignored by the parser):
a list of lines in the same mini-language as the XML fixtures (see tests/test_feeds.py),
``Description:``, ``Expect:`` and ``Expect-entry:``. A fixture that is deliberately invalid JSON
opens with that key, so the test reads it back with a raw decode of its start.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from newsmon.ingest.feeds import MAX_FIELD_CHARS
from newsmon.ingest.jsonfeed import parse_jsonfeed
from tests.test_feeds import _pairs, check_entry, check_feed

FIXTURES = Path(__file__).parent / "fixtures" / "jsonfeed"
JSON_FILES = sorted(FIXTURES.glob("*.json"))
_EXPECT_KEY_RE = re.compile(r'"_expect"\s*:\s*')


def read_expectations(path: Path) -> tuple[str, list[tuple[str, str]], dict[int, list[tuple[str, str]]]]:
    """The fixture's ``_expect`` lines: (description, feed expectations, per-entry expectations)."""
    text = path.read_text(encoding="utf-8")
    match = _EXPECT_KEY_RE.search(text)
    assert match, f"{path.name} has no _expect key"
    lines, _ = json.JSONDecoder().raw_decode(text, match.end())
    description, feed, entries = "", [], {}
    current = None
    for line in lines:
        if line.startswith("Description:"):
            description, current = line.removeprefix("Description:").strip(), "description"
        elif line.startswith("Expect:"):
            feed += _pairs(shlex.split(line.removeprefix("Expect:")))
            current = None
        elif line.startswith("Expect-entry:"):
            index, *tokens = shlex.split(line.removeprefix("Expect-entry:"))
            entries.setdefault(int(index), []).extend(_pairs(tokens))
            current = None
        elif current == "description":
            description += " " + line.strip()
    return description, feed, entries


def test_fixtures_present() -> None:
    """The data-driven tests below actually have fixtures to run on."""
    assert len(JSON_FILES) >= 5


@pytest.mark.parametrize("path", JSON_FILES, ids=[p.name for p in JSON_FILES])
def test_jsonfeed_fixture(path: Path) -> None:
    """The fixture parses as its _expect lines say."""
    description, feed_expected, entry_expected = read_expectations(path)
    assert description and feed_expected, f"{path.name}: Description and Expect are required"
    parsed = parse_jsonfeed(path.read_bytes(), url="https://courrier-valmont.example/eco/feed.json")
    check_feed(parsed, feed_expected)
    for index, expected in entry_expected.items():
        assert index < len(parsed.entries), f"no entry {index}"
        check_entry(parsed.entries[index], expected)


@pytest.mark.parametrize("path", JSON_FILES, ids=[p.name for p in JSON_FILES])
def test_jsonfeed_fixture_invariants(path: Path) -> None:
    """Error and entries exclude each other; guids are set; links are http(s); dates are aware."""
    parsed = parse_jsonfeed(path.read_bytes())
    assert parsed.error or parsed.entries or parsed.warning
    if parsed.error:
        assert parsed.entries == [] and parsed.warning is None
    for entry in parsed.entries:
        assert entry.guid
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published_at is None or entry.published_at.tzinfo is not None


@pytest.mark.parametrize(("content", "error"), [
    (b"", "empty document"),
    (b"[1, 2, 3]", "the document is a JSON list, not an object"),
    (b'"just a string"', "the document is a JSON str, not an object"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": {"id": "1"}}', "'items' array is a dict"),
    (b"\xff\xfe\x00garbage", "invalid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
])
def test_bad_documents_give_clear_errors(content: bytes, error: str) -> None:
    """Not JSON, not an object, items not a list, deep nesting: an error saying which."""
    parsed = parse_jsonfeed(content)
    assert parsed.error is not None and error in parsed.error, parsed.error


def test_empty_items_is_a_warning() -> None:
    """A valid feed with an empty items array is not an error, but says so."""
    parsed = parse_jsonfeed(b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": []}')
    assert parsed.ok and parsed.entries == []
    assert parsed.warning == "the feed is valid but contains no items"


def test_wrong_field_types_are_ignored() -> None:
    """Fields of the wrong JSON type (a number title, a string tags, an object url) are skipped,
    not trusted and not a crash."""
    parsed = parse_jsonfeed(json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": 42, "language": ["fr"],
        "items": [{"id": True, "url": {"x": 1}, "title": 7, "tags": "news", "content_text": "Du texte.",
                   "authors": "nobody", "date_published": 20261124}],
    }).encode())
    entry = parsed.entries[0]
    assert parsed.title is None and parsed.language is None
    assert entry.link is None and entry.title is None and entry.tags == () and entry.author is None
    assert entry.content == "Du texte." and entry.guid.startswith("sha1:")


def test_bom_is_accepted() -> None:
    """A UTF-8 BOM before the JSON does not make it invalid."""
    parsed = parse_jsonfeed(b'\xef\xbb\xbf{"version": "https://jsonfeed.org/version/1", "items": '
                            b'[{"id": "a", "title": "Caf\xc3\xa9"}]}')
    assert [e.title for e in parsed.entries] == ["Café"]


def test_oversized_field_is_clipped() -> None:
    """A content_text larger than MAX_FIELD_CHARS is cut to that size."""
    huge = "word " * (MAX_FIELD_CHARS // 4)
    parsed = parse_jsonfeed(json.dumps({"version": "https://jsonfeed.org/version/1.1",
                                        "items": [{"id": "big", "content_text": huge}]}).encode())
    assert 0 < len(parsed.entries[0].content) <= MAX_FIELD_CHARS
