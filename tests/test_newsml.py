"""NewsML-G2 and NewsML 1.2 parsing, driven by the files in tests/fixtures/newsml.

Each fixture opens (after its XML declaration) with a comment holding a ``Description:`` and
``Expect:`` / ``Expect-entry:`` lines, in the same mini-language as tests/fixtures/feeds (see
tests/test_feeds.py): ``key=value`` exact, ``key~=`` substring, ``key!~=`` absent substring,
``none`` for None, ``|`` between list items (guids, subjects, keywords).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmon.ingest.feeds import MAX_FIELD_CHARS, ParsedFeed
from newsmon.ingest.newsml import parse_newsml
from tests.test_feeds import check_entry, check_feed, read_expectations

FIXTURES = Path(__file__).parent / "fixtures" / "newsml"
NEWSML_FILES = sorted(FIXTURES.glob("*.xml"))
G2 = "http://iptc.org/std/nar/2006-10-01/"


def test_fixtures_present() -> None:
    """The data-driven tests below actually have fixtures to run on."""
    assert len(NEWSML_FILES) >= 14


@pytest.mark.parametrize("path", NEWSML_FILES, ids=[p.name for p in NEWSML_FILES])
def test_newsml_fixture(path: Path) -> None:
    """The fixture parses as its header comment's Expect lines say."""
    description, feed_expected, entry_expected = read_expectations(path)
    assert description and feed_expected, f"{path.name}: Description and Expect are required"
    parsed = parse_newsml(path.read_bytes())
    check_feed(parsed, feed_expected)
    for index, expected in entry_expected.items():
        assert index < len(parsed.entries), f"no entry {index}"
        check_entry(parsed.entries[index], expected)


@pytest.mark.parametrize("path", NEWSML_FILES, ids=[p.name for p in NEWSML_FILES])
def test_newsml_fixture_invariants(path: Path) -> None:
    """Whatever the input: error and entries exclude each other, guids are set, links are
    http(s), dates are aware, statuses are one of the three the store knows."""
    parsed = parse_newsml(path.read_bytes())
    assert parsed.error or parsed.entries or parsed.warning
    if parsed.error:
        assert parsed.entries == [] and parsed.warning is None
    for entry in parsed.entries:
        assert entry.guid
        assert entry.status in ("usable", "canceled", "withheld")
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published_at is None or entry.published_at.tzinfo is not None


def test_version_two_replaces_version_one() -> None:
    """Version 2 of an item has the same guid as version 1 and a higher version."""
    first = parse_newsml((FIXTURES / "g2_newsitem_xhtml_fr.xml").read_bytes()).entries[0]
    second = parse_newsml((FIXTURES / "g2_newsitem_version2_no_namespace.xml").read_bytes()).entries[0]
    assert first.guid == second.guid
    assert (first.version, second.version) == (1, 2)
    assert first.title != second.title


def test_xxe_never_reads_the_file(tmp_path: Path) -> None:
    """External entities (general or parameter) pointing at a local file: the file's content
    appears nowhere, whether the entity is used in text or loaded as a DTD fragment."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7731")
    fragment = tmp_path / "fragment.dtd"
    fragment.write_text('<!ENTITY leak "TOP-SECRET-7731">')
    item = f'<newsItem xmlns="{G2}" guid="g"><contentMeta><headline>{{}}</headline></contentMeta></newsItem>'
    documents = [
        f'<!DOCTYPE n [<!ENTITY x SYSTEM "{secret.as_uri()}">]>' + item.format("&x;"),
        f'<!DOCTYPE n [<!ENTITY % p SYSTEM "{fragment.as_uri()}"> %p;]>' + item.format("&leak;"),
        f'<!DOCTYPE newsItem SYSTEM "{fragment.as_uri()}">' + item.format("A &leak; B"),
    ]
    for document in documents:
        parsed = parse_newsml(document.encode())
        assert "TOP-SECRET" not in repr(parsed)
    # the external DTD is not loaded, so the undeclared entity is dropped, the rest kept
    assert parse_newsml(documents[2].encode()).entries[0].title == "A B"


def test_network_dtd_is_not_fetched() -> None:
    """A DOCTYPE naming a DTD on the network parses without fetching it (no_network, no load)."""
    document = (b'<!DOCTYPE NewsML SYSTEM "http://192.0.2.1/NewsML_1.2.dtd"><NewsML><NewsItem>'
                b"<NewsComponent><NewsLines><HeadLine>Offline</HeadLine></NewsLines></NewsComponent>"
                b"</NewsItem></NewsML>")
    parsed = parse_newsml(document)
    assert [e.title for e in parsed.entries] == ["Offline"]


@pytest.mark.parametrize("content", [b"", b"  \n\t "])
def test_empty_document_is_an_error(content: bytes) -> None:
    """No bytes (or only white space) is an error, as for RSS."""
    parsed = parse_newsml(content)
    assert parsed.error is not None and "empty document" in parsed.error


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 16,
    b"\x1f\x8b\x08\x00" + b"\x00\xff" * 1000,
    b'{"items": []}',
    b"<newsItem xmlns='" + G2.encode() + b"'>" + b"<p>" * 5000,
    b"<rss version='2.0'><channel><title>RSS, not NewsML</title></channel></rss>",
    b"<?xml version='1.0' encoding='bogus'?><newsItem/>",
    "<newsItem guid='ü'/>".encode("utf-16"),
])
def test_hostile_input_never_raises(content: bytes) -> None:
    """Garbage, JSON, deep nesting, another format, a bogus encoding: a result, never an exception."""
    parsed = parse_newsml(content)
    assert isinstance(parsed, ParsedFeed)
    assert parsed.error or parsed.entries or parsed.warning


def test_wrong_root_is_named_in_the_error() -> None:
    """XML that is not NewsML says which root element it found."""
    parsed = parse_newsml(b"<rss version='2.0'><channel/></rss>")
    assert parsed.error == "not NewsML: the root element is <rss>"
    fragment = parse_newsml(f"<contentSet xmlns='{G2}'><inlineXML/></contentSet>".encode())
    assert fragment.error is not None and "<contentSet>, a part of an item" in fragment.error


def test_mislabeled_latin1_declaration_reads_utf8() -> None:
    """A document declaring ISO-8859-1 whose bytes are valid UTF-8 is read as UTF-8 (no 'Ã©')."""
    document = ('<?xml version="1.0" encoding="ISO-8859-1"?>'
                f'<newsItem xmlns="{G2}" guid="g"><contentMeta><headline>Fête à Genève</headline>'
                "</contentMeta></newsItem>").encode()
    assert parse_newsml(document).entries[0].title == "Fête à Genève"
    really_latin1 = document.decode("utf-8").encode("iso-8859-1")
    assert parse_newsml(really_latin1).entries[0].title == "Fête à Genève"


def test_item_without_guid_gets_a_stable_hash() -> None:
    """A newsItem without @guid gets a content hash, the same on every parse."""
    document = (f"<newsItem xmlns='{G2}'><contentMeta><headline>No id</headline></contentMeta>"
                "</newsItem>").encode()
    first, second = parse_newsml(document).entries[0], parse_newsml(document).entries[0]
    assert first.guid.startswith("sha1:") and first.guid == second.guid


def test_oversized_body_is_clipped() -> None:
    """A body larger than MAX_FIELD_CHARS is cut to that size."""
    paragraph = "<p>" + "mot " * 2000 + "</p>"
    document = (f"<newsItem xmlns='{G2}' guid='big'><contentSet><inlineXML><html><body>"
                f"{paragraph * 40}</body></html></inlineXML></contentSet></newsItem>").encode()
    entry = parse_newsml(document).entries[0]
    assert 0 < len(entry.content) <= MAX_FIELD_CHARS


def test_base64_inline_data_is_decoded() -> None:
    """inlineData with encoding="base64" is decoded before use."""
    import base64

    encoded = base64.b64encode("Texte encodé en base64.".encode()).decode()
    document = (f"<newsItem xmlns='{G2}' guid='b64'><contentSet><inlineData contenttype='text/plain' "
                f"encoding='base64'>{encoded}</inlineData></contentSet></newsItem>").encode()
    assert parse_newsml(document).entries[0].content == "Texte encodé en base64."


def test_relative_link_resolved_against_the_url() -> None:
    """A relative itemMeta/link is resolved against the document's URL, else dropped."""
    document = (f"<newsItem xmlns='{G2}' guid='rel'><itemMeta><link rel='irel:seeAlso' "
                "href='/story/42.html'/></itemMeta><contentMeta><headline>Rel</headline></contentMeta>"
                "</newsItem>").encode()
    assert parse_newsml(document, url="https://wire.example.test/feed.xml").entries[0].link == \
        "https://wire.example.test/story/42.html"
    assert parse_newsml(document).entries[0].link is None
