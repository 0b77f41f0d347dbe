"""URL canonicalization: one spelling per article."""

from __future__ import annotations

import pytest

from newsmon.ingest.urls import canonicalize_url, host_of


@pytest.mark.parametrize(("url", "expected"), [
    pytest.param("https://news.example/story?id=7&utm_source=rss&utm_medium=feed&utm_campaign=x",
                 "https://news.example/story?id=7", id="utm"),
    pytest.param("https://news.example/story?fbclid=IwAR0abc&gclid=Cj0K&id=7",
                 "https://news.example/story?id=7", id="fbclid-gclid"),
    pytest.param("https://news.example/story?xtor=RSS-3&at_medium=rss&at_campaign=c&id=7",
                 "https://news.example/story?id=7", id="xiti-at-internet"),
    pytest.param("https://news.example/story?id=7&ito=1234&cmpid=rss&ocid=feed&smid=tw-share",
                 "https://news.example/story?id=7", id="news-site-trackers"),
    pytest.param("https://news.example/story?UTM_Source=rss&Xtor=RSS-1&id=7",
                 "https://news.example/story?id=7", id="tracker-names-any-case"),
])
def test_tracking_parameters_removed(url: str, expected: str) -> None:
    """utm_*, click ids and news-site tracking parameters are stripped, the article id kept."""
    assert canonicalize_url(url) == expected


def test_fragment_removed() -> None:
    """The #fragment never distinguishes two articles."""
    assert canonicalize_url("https://news.example/a.html#comments") == "https://news.example/a.html"
    assert canonicalize_url("https://news.example/a.html?p=2#top") == "https://news.example/a.html?p=2"


def test_scheme_and_host_lower_cased_path_case_kept() -> None:
    """Scheme and host are case-insensitive and lower-cased; the path is case-sensitive and kept."""
    assert canonicalize_url("HTTPS://News.EXAMPLE/World/Story.HTML") == "https://news.example/World/Story.HTML"


@pytest.mark.parametrize(("url", "expected"), [
    ("http://news.example:80/a", "http://news.example/a"),
    ("https://news.example:443/a", "https://news.example/a"),
    ("https://news.example:8443/a", "https://news.example:8443/a"),
    ("http://news.example:8080/a", "http://news.example:8080/a"),
])
def test_default_port_dropped_other_ports_kept(url: str, expected: str) -> None:
    """The scheme's default port is dropped; any other port is part of the address."""
    assert canonicalize_url(url) == expected


def test_query_parameters_sorted() -> None:
    """Parameter order does not matter: both orders give the same URL, sorted by name."""
    a = canonicalize_url("https://news.example/search?section=world&page=2&lang=fr")
    b = canonicalize_url("https://news.example/search?lang=fr&section=world&page=2")
    assert a == b == "https://news.example/search?lang=fr&page=2&section=world"


def test_non_tracking_parameters_kept() -> None:
    """Parameters that select the article (id, page, p, article) survive with their values."""
    url = "https://news.example/article.php?id=4512&page=3&p=12&utm_source=x"
    assert canonicalize_url(url) == "https://news.example/article.php?id=4512&p=12&page=3"


@pytest.mark.parametrize("name", ["section", "region", "copy", "not", "para", "times", "deg", "pound"])
def test_parameter_names_that_look_like_html_entities_kept(name: str) -> None:
    """'&section=' or '&region=' is a parameter, not the HTML entity &sect; or &reg;."""
    url = f"https://news.example/list?a=1&{name}=world"
    assert canonicalize_url(url) == f"https://news.example/list?{'&'.join(sorted(['a=1', name + '=world']))}"


def test_percent_encoded_values_kept() -> None:
    """Percent-encoded values (an encoded '&' inside a value) are not decoded into new parameters."""
    assert canonicalize_url("https://news.example/s?t=a%26b&q=caf%C3%A9") == \
        "https://news.example/s?q=caf%C3%A9&t=a%26b"


def test_same_story_two_spellings_one_url() -> None:
    """Two links to one story that differ only by case, port, trackers, order and fragment agree."""
    a = "HTTPS://www.News.example:443/politics/vote.html?b=2&a=1&utm_source=rss#main"
    b = "https://www.news.example/politics/vote.html?a=1&b=2&fbclid=123"
    assert canonicalize_url(a) == canonicalize_url(b)


def test_different_articles_stay_different() -> None:
    """Different ids or paths do not collapse into one URL."""
    assert canonicalize_url("https://news.example/a?id=1") != canonicalize_url("https://news.example/a?id=2")
    assert canonicalize_url("https://news.example/a") != canonicalize_url("https://news.example/b")


def test_empty_path_becomes_slash_and_whitespace_stripped() -> None:
    """A bare host gets '/' as its path; surrounding white space is ignored."""
    assert canonicalize_url("  https://news.example  ") == "https://news.example/"


def test_canonicalization_is_idempotent() -> None:
    """Canonicalizing a canonical URL changes nothing."""
    once = canonicalize_url("HTTP://News.example:80/a.html?utm_source=x&b=2&a=1#top")
    assert once == "http://news.example/a.html?a=1&b=2"
    assert canonicalize_url(once) == once


def test_host_of() -> None:
    """host_of gives the lower-case host without port or credentials, '' when there is none."""
    assert host_of("https://User@News.Example:8443/a") == "news.example"
    assert host_of("/relative/path") == ""
