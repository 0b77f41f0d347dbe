"""Configuration: feeds YAML validated with messages naming file, entry and field; typed settings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from newsmon.core.config import DEFAULT_FEEDS_FILE, FeedConfig, Settings, load_feeds, parse_feeds
from newsmon.core.errors import ConfigError

VALID_FEEDS = """\
feeds:
  - name: valmont-region
    url: "https://courrier-valmont.example/region/rss.xml"
    kind: rss
    language: fr
    tags: [region, local]
  - name: harbourside.business
    url: "${NEWS_HOST}/business/atom.xml"
    kind: atom
    enabled: false
    fetch_pages: false
  - name: wire_briefs
    url: "http://coastal-wire.example/briefs"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_gives_feed_configs(tmp_path: Path) -> None:
    """A valid file yields one FeedConfig per entry, with defaults and ${VAR} expanded."""
    path = _write(tmp_path, VALID_FEEDS)
    feeds = load_feeds(path, env={"NEWS_HOST": "https://harbourside-gazette.example/"})
    assert feeds == [
        FeedConfig(name="valmont-region", url="https://courrier-valmont.example/region/rss.xml",
                   kind="rss", language="fr", enabled=True, tags=("region", "local"), fetch_pages=True),
        FeedConfig(name="harbourside.business", url="https://harbourside-gazette.example/business/atom.xml",
                   kind="atom", language=None, enabled=False, tags=(), fetch_pages=False),
        FeedConfig(name="wire_briefs", url="http://coastal-wire.example/briefs"),
    ]
    assert feeds[0].as_config() == {"kind": "rss", "language": "fr", "enabled": True,
                                    "tags": ["region", "local"], "fetch_pages": True, "robots": True,
                                    "allow_private": False}


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("false", False), ("[127.0.0.1, 10.0.0.0/8]", ("127.0.0.1/32", "10.0.0.0/8")),
])
def test_allow_private_forms(tmp_path: Path, value: str, expected: object) -> None:
    """allow_private is true, false or a list of addresses/networks, normalized."""
    path = _write(tmp_path, f"feeds:\n  - name: a\n    url: http://a.example/f\n    allow_private: {value}\n")
    assert load_feeds(path)[0].allow_private == expected


def test_allow_private_bad_network_names_the_field(tmp_path: Path) -> None:
    """A malformed network in allow_private is an error naming the field."""
    path = _write(tmp_path, "feeds:\n  - name: a\n    url: http://a.example/f\n"
                            "    allow_private: [not-an-ip]\n")
    with pytest.raises(ConfigError, match=r"feeds\[0\] \(name 'a'\): field 'allow_private'"):
        load_feeds(path)


def test_shipped_feeds_file_is_valid() -> None:
    """The config/feeds.yml shipped with the project passes validation."""
    feeds = load_feeds(DEFAULT_FEEDS_FILE, env={})
    assert feeds and all(isinstance(f, FeedConfig) for f in feeds)
    assert len({f.name for f in feeds}) == len(feeds)


def test_empty_feeds_list_is_valid() -> None:
    """'feeds: []' is a valid configuration with no feeds, not an error."""
    assert parse_feeds({"feeds": []}, "inline.yml", env={}) == []


ENTRY = '  - name: {name}\n    url: "https://news.example/{name}.xml"\n'

INVALID_CASES = [
    pytest.param("feeds:\n  - name: no-url\n    language: en\n",
                 ["feeds[0]", "'no-url'", "'url'", "required"], id="missing-url"),
    pytest.param('feeds:\n  - name: ftp-feed\n    url: "ftp://news.example/feed.xml"\n',
                 ["feeds[0]", "'ftp-feed'", "'url'", "http"], id="bad-scheme"),
    pytest.param("feeds:\n" + ENTRY.format(name="first") + ENTRY.format(name="typo") + "    langauge: fr\n",
                 ["feeds[1]", "'typo'", "langauge"], id="unknown-field-typo"),
    pytest.param("feeds:\n" + ENTRY.format(name="same") + ENTRY.format(name="other")
                 + ENTRY.format(name="same"),
                 ["feeds[2]", "'same'", "'name'", "duplicate of feeds[0]"], id="duplicate-name"),
    pytest.param("feeds:\n" + ENTRY.format(name="rdf-feed") + "    kind: rdf\n",
                 ["feeds[0]", "'rdf-feed'", "'kind'", "'rdf'"], id="bad-kind"),
    pytest.param("feeds:\n" + ENTRY.format(name="lang") + "    language: french\n",
                 ["feeds[0]", "'lang'", "'language'", "'french'"], id="bad-language"),
    pytest.param("feeds:\n" + ENTRY.format(name="norway") + "    language: no\n",
                 ["feeds[0]", "'norway'", "'language'", "False"], id="language-no-parsed-as-false"),
    pytest.param("feeds:\n" + ENTRY.format(name="flag") + '    enabled: "no"\n',
                 ["feeds[0]", "'flag'", "'enabled'", "true or false"], id="enabled-not-bool"),
    pytest.param("feeds:\n" + ENTRY.format(name="pages") + "    fetch_pages: 1\n",
                 ["feeds[0]", "'pages'", "'fetch_pages'"], id="fetch-pages-not-bool"),
    pytest.param("feeds:\n" + ENTRY.format(name="tagged") + "    tags: world\n",
                 ["feeds[0]", "'tagged'", "'tags'", "list"], id="tags-not-list"),
    pytest.param("feeds:\n" + ENTRY.format(name="Upper_Case"),
                 ["feeds[0]", "'name'", "'Upper_Case'"], id="bad-name"),
    pytest.param("feeds:\n  - https://news.example/feed.xml\n",
                 ["feeds[0]", "mapping"], id="entry-not-mapping"),
    pytest.param("- name: a\n  url: https://news.example/a.xml\n",
                 ["mapping", "'feeds:'"], id="top-level-not-mapping"),
    pytest.param("feeds:\n  name: a\n  url: https://news.example/a.xml\n",
                 ["'feeds' must be a list"], id="feeds-not-list"),
    pytest.param("feeds: []\nfeed_defaults: {}\n",
                 ["unknown top-level", "feed_defaults"], id="unknown-top-level-key"),
    pytest.param("feeds:\n  - name: a\n    url: [unclosed\n",
                 ["invalid YAML"], id="invalid-yaml"),
    pytest.param('feeds:\n  - name: env-feed\n    url: "${UNSET_VAR}/feed.xml"\n',
                 ["feeds[0]", "'env-feed'", "'url'", "${UNSET_VAR}", "not set"], id="unset-env-var"),
]


@pytest.mark.parametrize(("text", "fragments"), INVALID_CASES)
def test_invalid_feeds_file_names_file_entry_and_field(tmp_path: Path, text: str,
                                                       fragments: list[str]) -> None:
    """Each invalid file raises ConfigError naming the file, the entry and the field at fault."""
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_feeds(path, env={})
    message = str(caught.value)
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_missing_feeds_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing feeds file raises ConfigError naming the path and the variable to set."""
    path = tmp_path / "nowhere" / "feeds.yml"
    with pytest.raises(ConfigError, match="not found") as caught:
        load_feeds(path, env={})
    assert str(path) in str(caught.value)
    assert "NEWSMON_FEEDS_FILE" in str(caught.value)


def test_feeds_file_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    """A feeds file that is not UTF-8 raises ConfigError naming the file, not UnicodeDecodeError."""
    path = tmp_path / "feeds.yml"
    path.write_bytes("feeds:\n  - name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="cannot read") as caught:
        load_feeds(path, env={})
    assert str(path) in str(caught.value)


def test_settings_defaults_from_empty_environment() -> None:
    """With no NEWSMON_* variables every setting keeps its documented default."""
    assert Settings.from_env({}) == Settings()


def test_settings_parse_types_from_environment() -> None:
    """NEWSMON_* strings become floats, ints and strings per field; empty values are ignored."""
    settings = Settings.from_env({
        "NEWSMON_DATABASE_URL": "postgresql://news@db.example:5433/news",
        "NEWSMON_CONNECT_TIMEOUT": "2.5",
        "NEWSMON_READ_TIMEOUT": "7",
        "NEWSMON_MAX_BODY_BYTES": "2000000",
        "NEWSMON_MAX_REDIRECTS": "0",
        "NEWSMON_BATCH_SIZE": "",
        "UNRELATED": "x",
    })
    assert settings.database_url == "postgresql://news@db.example:5433/news"
    assert settings.connect_timeout == 2.5 and isinstance(settings.connect_timeout, float)
    assert settings.read_timeout == 7.0 and isinstance(settings.read_timeout, float)
    assert settings.max_body_bytes == 2_000_000 and isinstance(settings.max_body_bytes, int)
    assert settings.max_redirects == 0
    assert settings.batch_size == Settings().batch_size


def test_settings_overrides_win_over_environment() -> None:
    """Explicit overrides beat the environment; None overrides are ignored."""
    settings = Settings.from_env({"NEWSMON_DATABASE_URL": "postgresql://env/db",
                                  "NEWSMON_FEEDS_FILE": "/etc/newsmon/feeds.yml"},
                                 database_url="postgresql://cli/db", feeds_file=None)
    assert settings.database_url == "postgresql://cli/db"
    assert settings.feeds_file == "/etc/newsmon/feeds.yml"


@pytest.mark.parametrize(("variable", "value"), [
    ("NEWSMON_BATCH_SIZE", "ten"),
    ("NEWSMON_BATCH_SIZE", "1.5"),
    ("NEWSMON_READ_TIMEOUT", "thirty"),
    ("NEWSMON_MAX_BODY_BYTES", "10MB"),
    ("NEWSMON_CONNECT_TIMEOUT", "0"),
    ("NEWSMON_READ_TIMEOUT", "-1"),
    ("NEWSMON_READ_TIMEOUT", "nan"),
    ("NEWSMON_READ_TIMEOUT", "inf"),
    ("NEWSMON_FETCH_CONCURRENCY", "0"),
    ("NEWSMON_FETCH_MAX_ATTEMPTS", "-3"),
    ("NEWSMON_MAX_REDIRECTS", "-1"),
])
def test_settings_reject_bad_values_naming_the_variable(variable: str, value: str) -> None:
    """An unparsable, non-positive or non-finite value raises ConfigError naming the variable."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert variable in str(caught.value)


def test_settings_accept_a_finite_large_timeout() -> None:
    """A large but finite timeout is accepted (only nan/inf/non-positive are refused)."""
    assert Settings.from_env({"NEWSMON_READ_TIMEOUT": "3600"}).read_timeout == 3600.0
    assert not math.isinf(Settings().read_timeout)


def test_shipped_feeds_are_a_real_starter_set() -> None:
    """config/feeds.yml polls real public feeds out of the box: enabled, in French, English, Polish
    and German, each with its language, tags and a comment saying where the URL comes from."""
    feeds = load_feeds(DEFAULT_FEEDS_FILE, env={})
    assert all(f.enabled for f in feeds)
    assert {"fr", "en", "pl", "de"} <= {f.language for f in feeds}
    assert all(f.tags and f.language and f.url.startswith("https://") for f in feeds)
    assert not any("example." in f.url for f in feeds)
    lines = DEFAULT_FEEDS_FILE.read_text(encoding="utf-8").splitlines()
    for feed in feeds:
        at = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {feed.name}")
        assert lines[at - 1].strip().startswith("#"), f"{feed.name}: no comment saying where it comes from"
