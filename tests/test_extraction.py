"""Article extraction from HTML pages and plain text of HTML fragments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsmon.articles.extraction import MIN_TEXT_CHARS, declared_html_language, extract_article
from newsmon.core.text import fragment_text

DOCUMENTS = Path(__file__).parent / "fixtures" / "documents"
CET = timezone(timedelta(hours=1))


def _page(name: str) -> bytes:
    return (DOCUMENTS / name).read_bytes()


def test_english_page_text_excludes_boilerplate() -> None:
    """The article body is extracted; nav, byline, footer and the in-article h1 are left out."""
    article = extract_article(_page("news_en.html"))
    assert article is not None
    assert article.text.startswith("The harbour road tunnel reopened to traffic on Monday morning")
    assert article.text.endswith("usual route into the city centre.")
    for boilerplate in ("Subscribe", "Home", "Copyright", "All rights reserved", "Privacy policy",
                        "Advertise", "By Helen Marsh"):
        assert boilerplate not in article.text
    assert not article.text.startswith("Harbour tunnel reopens")  # the title is stored apart
    assert len(article.text) >= MIN_TEXT_CHARS


def test_english_page_metadata() -> None:
    """Title, author, <html lang> language and canonical URL come from the page's own markup."""
    article = extract_article(_page("news_en.html"))
    assert article is not None
    assert article.title == "Harbour tunnel reopens after six-month repair"
    assert article.author == "Helen Marsh"
    assert article.language == "en"
    assert article.canonical_url == "https://riverton-daily.example/news/2026/11/23/harbour-tunnel-reopens"


def test_published_at_keeps_time_and_zone() -> None:
    """article:published_time with +01:00 gives that instant, not midnight of the URL's date."""
    article = extract_article(_page("news_en.html"))
    assert article is not None and article.published_at is not None
    assert article.published_at.utcoffset() == timedelta(hours=1)
    assert article.published_at == datetime(2026, 11, 23, 9, 15, tzinfo=CET)
    assert article.published_at == datetime(2026, 11, 23, 8, 15, tzinfo=UTC)


def test_french_page() -> None:
    """A French page: text with paragraph breaks and guillemets, metadata, lang 'fr', date with zone."""
    article = extract_article(_page("news_fr.html"))
    assert article is not None
    assert article.title == "Valmont : la médiathèque ouvrira le dimanche dès janvier"
    assert article.author == "Claire Morel"
    assert article.language == "fr"
    assert article.canonical_url == "https://courrier-valmont.example/culture/2026/11/24/mediatheque-dimanche"
    assert article.published_at == datetime(2026, 11, 24, 6, 45, tzinfo=CET)
    paragraphs = article.text.split("\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("La médiathèque municipale de Valmont ouvrira ses portes")
    assert "« Nous voulons que la médiathèque soit un lieu de vie" in article.text
    for boilerplate in ("Accueil", "Abonnez-vous", "Mentions légales", "cookies"):
        assert boilerplate not in article.text


def test_url_argument_used_when_page_has_no_canonical() -> None:
    """Without <link rel=canonical>, the URL the page was fetched from is reported."""
    html = _page("news_en.html").replace(b'<link rel="canonical"', b'<link rel="alternate"')
    article = extract_article(html, url="https://riverton-daily.example/n/4471")
    assert article is not None
    assert article.canonical_url == "https://riverton-daily.example/n/4471"


def test_str_input_equals_bytes_input() -> None:
    """The page may be given as text instead of bytes, with the same result."""
    raw = _page("news_fr.html")
    assert extract_article(raw.decode("utf-8")) == extract_article(raw)


def test_page_with_too_little_text_gives_none() -> None:
    """A video page with one caption line holds no article body: None."""
    assert extract_article(_page("no_article.html")) is None


def test_teaser_just_under_the_minimum_gives_none() -> None:
    """An article shorter than MIN_TEXT_CHARS is a teaser, not a body: None."""
    body = "Short teaser about the council meeting. " * 3
    assert len(body) < MIN_TEXT_CHARS
    html = f"<html lang='en'><body><article><p>{body}</p></article></body></html>"
    assert extract_article(html) is None


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(bytes(range(256)) * 40, id="all-byte-values"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00\xff\xfe" * 2000, id="png-bytes"),
    pytest.param(b"\x1f\x8b\x08\x00" + b"\xde\xad\xbe\xef" * 500, id="gzip-garbage"),
    pytest.param(b"<<<>>><html><<<body>>" * 200, id="broken-markup"),
])
def test_garbage_gives_none(data: bytes) -> None:
    """Garbage bytes never raise: extraction gives None."""
    assert extract_article(data) is None


@pytest.mark.parametrize(("html", "expected"), [
    ('<html lang="fr-FR"><head>', "fr"),
    ("<HTML LANG='de'>", "de"),
    ('<html class="no-js" lang=en_GB data-x="1">', "en"),
    ("<html><body lang='es'>", None),
    ("<html>", None),
])
def test_declared_html_language(html: str, expected: str | None) -> None:
    """The <html lang> attribute, normalized to its primary code; nothing else counts."""
    assert declared_html_language(html) == expected
    assert declared_html_language(html.encode()) == expected


def test_fragment_text_keeps_paragraph_breaks_and_drops_scripts() -> None:
    """One line per block element, source line wraps joined, script/style/noscript dropped."""
    fragment = """<p>The ferry company ordered three
    electric vessels on Tuesday.</p><script>track("ferry");</script>
    <style>p { color: red }</style><noscript><img src="pixel.gif">Enable JS</noscript>
    <p>Deliveries start in <b>2028</b>,<br>the company said.</p><ul><li>Route A</li><li>Route B</li></ul>"""
    assert fragment_text(fragment) == ("The ferry company ordered three electric vessels on Tuesday.\n"
                                       "Deliveries start in 2028,\n"
                                       "the company said.\n"
                                       "Route A\n"
                                       "Route B")


def test_fragment_text_keeps_preformatted_lines() -> None:
    """Inside <pre> the source line breaks are the content and are kept."""
    expected = "Results:\nValmont 21\nRiverton 17"
    assert fragment_text(f"<pre>{expected}</pre>") == expected


def test_fragment_text_decodes_entities_and_inline_markup() -> None:
    """Entities are decoded, inline tags vanish without gluing words, nbsp becomes a space."""
    assert fragment_text("<p>Pain &amp; beurre&nbsp;: <em>hausse</em> de 5&#160;%</p>") == \
        "Pain & beurre : hausse de 5 %"


@pytest.mark.parametrize(("fragment", "expected"), [
    (None, ""),
    ("", ""),
    ("   \n ", ""),
    ("Plain  summary\twith   spaces.\n\n\nSecond line.", "Plain summary with spaces.\nSecond line."),
])
def test_fragment_text_plain_input(fragment: str | None, expected: str) -> None:
    """Text without markup keeps its lines, with white space tidied; empty gives ''."""
    assert fragment_text(fragment) == expected


SHARED_PAGES = (Path(__file__).resolve().parents[2] / "shared" / "corpus" / "article-extraction-benchmark"
                / "html")


def _pages() -> list[bytes]:
    import gzip

    pages = [path.read_bytes() for path in sorted(DOCUMENTS.glob("*.html"))]
    if SHARED_PAGES.is_dir():  # real pages too, where ../shared exists (every 8th, to stay quick)
        pages += [gzip.decompress(p.read_bytes()) for p in sorted(SHARED_PAGES.glob("*.html.gz"))[::8]]
    return pages


def test_targeted_metadata_search_equals_trafilaturas_own() -> None:
    """One parse, only the fields asked for: the same text, title, date, canonical URL (and
    author when asked) as trafilatura's whole metadata search on the same page."""
    import trafilatura

    from newsmon.articles.extraction import _DATE_PARAMS
    from newsmon.core.timeparse import parse_datetime

    pages = _pages()
    assert pages
    for html in pages:
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, fast=True,
                                          date_extraction_params=_DATE_PARAMS)
        for author in (True, False):
            ours = extract_article(html, None, author=author)
            if doc is None or ours is None:
                continue
            assert ours.title == ((doc.title or "").strip() or None)
            assert ours.published_at == parse_datetime(doc.date)
            want_url = doc.url if doc.url and doc.url.startswith(("http://", "https://")) else None
            assert ours.canonical_url == want_url
            if author:  # without it, only an author the meta tags give for free
                assert ours.author == ((doc.author or "").strip() or None)
            assert ours.text.endswith(doc.text.strip().rsplit("\n", 1)[-1])
