"""Robustness of ``parse_any`` against the shared corpus (../shared/corpus, developers' machines only).

Every file of feedparser's ill-formed and encoding test feeds and every IPTC NewsML-G2 example
goes through ``parse_any``: no exception may escape, and each gives a recorded outcome, entries
or a non-empty error or warning (a valid feed with no items and a warning counts). The NewsML-G2
newsItems that carry text must come out as entries with a title or text. The files are read in
place, never copied into the project; without ../shared the tests skip.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from newsmon.ingest.formats import parse_any

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
TREES = ("feedparser-badfeeds/tests", "newsml-g2-examples/examples")
CORPUS_FILES = sorted(str(p.relative_to(CORPUS)) for tree in TREES if (CORPUS / tree).is_dir()
                      for p in (CORPUS / tree).rglob("*") if p.is_file())
G2_EXAMPLES = [name for name in CORPUS_FILES if name.startswith("newsml-g2-examples/")]
G2_TEXT_EXCEPTIONS = {
    "LISTING_16_A_Set_of_Events_carried_in_a_News_Item.xml":
        "a composite newsItem with no headline whose inlineXML holds EventsML event descriptions "
        "(names, dates, venues): event data, not article text, so no entry",
}
"""newsItems with text content that rightly give no entry, with the reason."""
_HEADER_RE = re.compile(r"^\s*Header:\s*([\w-]+):\s*(.+?)\s*$", re.MULTILINE)
_SAFE_PARSER = {"resolve_entities": False, "no_network": True, "load_dtd": False}


def _http_headers(content: bytes) -> dict[str, str]:
    """The ``Header:`` lines of a feedparser test's opening comment: the HTTP headers the test
    simulates (a Content-Type whose charset contradicts the document, ...)."""
    comment = content[:2000].split(b"-->", 1)[0].decode("latin-1")
    return {name: value for name, value in _HEADER_RE.findall(comment)}


def _text_news_items(content: bytes) -> dict[str, str]:
    """guid -> a description, for each newsItem (the root, or in a newsMessage's itemSet) that
    carries text: a non-empty headline, or text in inlineXML or inlineData."""
    root = etree.fromstring(content, etree.XMLParser(**_SAFE_PARSER))
    items = [root] if etree.QName(root).localname == "newsItem" else root.findall("{*}itemSet/{*}newsItem")
    found = {}
    for item in items:
        headline = "".join(item.xpath("string(*[local-name()='contentMeta']/*[local-name()='headline'])"))
        inline = "".join("".join(e.itertext()) for e in item.xpath(
            "*[local-name()='contentSet']/*[local-name()='inlineXML' or local-name()='inlineData']"))
        if headline.strip() or inline.strip():
            found[item.get("guid") or ""] = (headline.strip() or inline.strip())[:60]
    return found


def _carries_text(name: str) -> bool:
    """Does this NewsML-G2 example hold a newsItem with text? (A file that is not well-formed XML
    is kept: the test then fails on it instead of passing without a check.)"""
    try:
        return bool(_text_news_items((CORPUS / name).read_bytes()))
    except etree.XMLSyntaxError:
        return True


G2_TEXT_EXAMPLES = [name for name in G2_EXAMPLES if _carries_text(name)]
"""The examples with text news items; the others (packages, concepts, planning items,
catalogs) are covered by the outcome test only."""


def test_corpus_is_present(shared_corpus: Path) -> None:
    """The shared corpus holds what this module expects (else the tests below run on nothing)."""
    assert len([n for n in CORPUS_FILES if n.startswith("feedparser-badfeeds/")]) >= 100
    assert len(G2_EXAMPLES) >= 30
    assert len(G2_TEXT_EXAMPLES) >= 10, G2_TEXT_EXAMPLES


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_every_corpus_file_has_a_recorded_outcome(shared_corpus: Path, name: str) -> None:
    """No exception escapes; the outcome is entries, or a non-empty error or warning."""
    content = (shared_corpus / name).read_bytes()
    parsed = parse_any(content, headers=_http_headers(content), url="https://corpus.example.test/feed")
    assert parsed.entries or parsed.error or parsed.warning, f"{name}: no entries, error or warning"
    if parsed.error:
        assert not parsed.entries and parsed.warning is None
    for entry in parsed.entries:
        assert entry.guid
        assert entry.status in ("usable", "canceled", "withheld")
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert entry.published_at is None or entry.published_at.tzinfo is not None


@pytest.mark.parametrize("name", G2_TEXT_EXAMPLES)
def test_g2_news_items_with_text_become_entries(shared_corpus: Path, name: str) -> None:
    """Each NewsML-G2 newsItem carrying a headline or inline text yields an entry, under its
    guid, with a title or text (documented exceptions aside)."""
    content = (shared_corpus / name).read_bytes()
    expected = _text_news_items(content)
    assert expected, f"{name}: no newsItem with text (the parametrization keeps only those)"
    parsed = parse_any(content)
    entries = {e.guid: e for e in parsed.entries}
    if Path(name).name in G2_TEXT_EXCEPTIONS:  # still a recorded outcome: no entry, a warning
        assert not set(expected) & set(entries) and parsed.warning, f"{name}: exception no longer holds"
        return
    for guid, what in expected.items():
        entry = entries.get(guid)
        assert entry is not None, f"{name}: newsItem {guid!r} ({what!r}) gave no entry: {parsed}"
        assert entry.title or entry.best_text, f"{name}: entry {guid!r} has neither title nor text"
