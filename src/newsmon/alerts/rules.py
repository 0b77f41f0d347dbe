"""Alert rules and messages: which stories to alert on, when, where, and what the message says.

Pure: no I/O beyond reading the YAML file in :func:`load_alert_config`; sending is
:mod:`newsmon.alerts.notify`. The file (default ``config/alerts.yml``, or ``NEWSMON_ALERTS_FILE``) is::

    channels:                       # where messages go; rules refer to them by name
      - name: demo_file             # unique, lowercase letters, digits, '.', '_' or '-'
        kind: file                  # file: append JSON Lines to `target`
        target: .local/alerts/alerts.jsonl   # relative to the project root
      - name: ops
        kind: apprise               # apprise: the URL is read from the environment variable
        env: NEWSMON_CHANNEL_OPS    # `env` (default NEWSMON_CHANNEL_<NAME>), never from the repo
    rules:
      - name: nato_russia_immediate # unique, same alphabet as channel names
        topic: nato_russia          # a topic of config/topics/
        min_score: 0.5              # 0..1, the story's topic score must reach it (default 0.5)
        languages: [fr, en]         # optional filters, empty or absent = any: story languages,
        sources: [lemonde]          #   source names,
        tags: [france]              #   source tags (a story passes when any of its values is listed),
        required_entities: [NATO]   #   canonical entity names that must all be mentioned
        channels: [demo_file]       # at least one channel name
        mode: immediate             # immediate (one message per story) or digest
        digest_cron: "0 7 * * *"    # digest only, required: 5-field cron (minute hour dom month dow)
        attach_report: true         # digest only, default false: attach the topic's HTML report
                                    # (``newsmon report``) to each digest, see newsmon.alerts.outbox
        quiet_hours: {start: "22:00", end: "07:00", timezone: Europe/Paris}  # optional; may cross
                                    # midnight; immediate alerts falling inside wait for its end
        per: event                  # story (default): one alert per story; event: one per event
                                    # (the same happening from any outlet, in any language); a
                                    # story alerts once it has its event (newsmon.events)

Quote times ("07:00"): unquoted, YAML 1.1 reads 07:00 as the number 420. Every error names the
file, the rule or channel and the field.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from newsmon.core.config import PROJECT_ROOT
from newsmon.core.errors import ConfigError

DEFAULT_ALERTS_FILE = PROJECT_ROOT / "config" / "alerts.yml"
MODES = ("immediate", "digest")
CHANNEL_KINDS = ("apprise", "file")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_UTC = datetime.UTC


@dataclass(frozen=True)
class QuietHours:
    """A daily window [start, end) in ``timezone`` (zoneinfo name) when immediate alerts wait;
    ``start > end`` crosses midnight."""

    start: datetime.time
    end: datetime.time
    timezone: str


@dataclass(frozen=True)
class Rule:
    """One alert rule: which stories of a topic, to which channels, immediately or in digests."""

    name: str
    topic: str
    min_score: float = 0.5
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    required_entities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    mode: str = "immediate"
    digest_cron: str | None = None
    quiet_hours: QuietHours | None = None
    attach_report: bool = False
    per: str = "story"  # story: one alert per story; event: one per event (all languages, all outlets)


PER = ("story", "event")


@dataclass(frozen=True)
class ChannelConfig:
    """A channel as configured: ``apprise`` (URL in environment variable ``env``) or ``file``
    (JSON Lines at ``target``, relative to the project root)."""

    name: str
    kind: str
    target: str | None
    env: str | None


@dataclass(frozen=True)
class AlertConfig:
    """The validated alerts file."""

    rules: tuple[Rule, ...]
    channels: dict[str, ChannelConfig]


@dataclass(frozen=True)
class StoryFacts:
    """What the pipeline knows about a story (for one topic) when deciding to alert."""

    story_id: int
    title: str | None
    url: str | None
    source: str | None
    source_tags: tuple[str, ...]
    language: str | None
    published_at: datetime.datetime | None
    score: float
    entities: tuple[str, ...]
    why: dict
    article_count: int
    source_count: int
    sources: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: ``filename`` (no directory), its bytes and MIME type."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class Message:
    """A rendered message: plain text ``title`` and ``body``, a JSON-serializable ``payload`` and
    optional ``attachments``."""

    title: str
    body: str
    payload: dict
    attachments: tuple[Attachment, ...] = ()


# ---------------------------------------------------------------------------- configuration

def default_channel_env(name: str) -> str:
    """The default environment variable of an apprise channel: ``NEWSMON_CHANNEL_<NAME>``."""
    return "NEWSMON_CHANNEL_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def _check_keys(item: Any, allowed: set[str], where: str, what: str) -> None:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping ({what}), got {type(item).__name__}")
    unknown = set(item) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(map(str, unknown))}; "
                          f"allowed: {sorted(allowed)}")


def _name(item: dict, field: str, where: str) -> str:
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: field '{field}' is required and must be a non-empty string")
    value = value.strip()
    if not _NAME_RE.match(value):
        raise ConfigError(f"{where}: field '{field}': use lowercase letters, digits, '.', '_' or '-' "
                          f"(at most 80), got {value!r}")
    return value


def _strings(item: dict, field: str, where: str, pattern: re.Pattern[str] | None = None,
             hint: str = "") -> tuple[str, ...]:
    value = item.get(field, [])
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ConfigError(f"{where}: field '{field}': expected a list, got {type(value).__name__}")
    out: list[str] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, str) or not entry.strip():
            raise ConfigError(f"{where}: field '{field}'[{index}]: expected a non-empty string, "
                              f"got {entry!r}")
        entry = entry.strip()
        if pattern is not None and not pattern.match(entry):
            raise ConfigError(f"{where}: field '{field}'[{index}]: {hint}, got {entry!r}")
        if entry in out:
            raise ConfigError(f"{where}: field '{field}'[{index}]: {entry!r} is listed twice")
        out.append(entry)
    return tuple(out)


_CRON_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
                ("month", 1, 12, {m: i + 1 for i, m in enumerate(
                    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}),
                ("day of week", 0, 7, {d: i for i, d in enumerate(
                    ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}))


def validate_cron(expression: str) -> str | None:
    """Why a 5-field cron expression is invalid (``None`` when it is valid)."""
    parts = expression.split()
    if len(parts) != 5:
        return f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}"
    for part, (label, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        for piece in part.split(","):
            base, _, step = piece.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"{label} {part!r}: step {step!r} must be a positive number"
            if base == "*":
                continue
            bounds = base.split("-")
            if len(bounds) > 2 or not all(bounds):
                return f"{label} {part!r}: {piece!r} is not a number, a range a-b or *"
            values: list[int] = []
            for bound in bounds:
                if bound.isdigit():
                    values.append(int(bound))
                elif bound.lower() in names:
                    values.append(names[bound.lower()])
                else:
                    return f"{label} {part!r}: {bound!r} is not a number"
            if any(not low <= v <= high for v in values):
                return f"{label} {part!r}: values must be in {low}-{high}"
            if len(values) == 2 and values[0] > values[1]:
                return f"{label} {part!r}: range {base!r} goes backwards"
    return None


def _time(value: Any, where: str) -> datetime.time:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ConfigError(f"{where}: quote the time (\"HH:MM\"): YAML read it as the number {value}")
    if not isinstance(value, str) or not _TIME_RE.match(value.strip()):
        raise ConfigError(f"{where}: expected a time \"HH:MM\" (00:00-23:59), got {value!r}")
    hours, minutes = value.strip().split(":")
    return datetime.time(int(hours), int(minutes))


def _quiet_hours(value: Any, where: str) -> QuietHours:
    _check_keys(value, {"start", "end", "timezone"}, where, "start, end, timezone")
    for key in ("start", "end", "timezone"):
        if key not in value:
            raise ConfigError(f"{where}: field '{key}' is required")
    start = _time(value["start"], f"{where}.start")
    end = _time(value["end"], f"{where}.end")
    if start == end:
        raise ConfigError(f"{where}: start and end are equal ({start:%H:%M}): the window would be empty")
    zone = value["timezone"]
    try:
        if not isinstance(zone, str) or not zone.strip():
            raise ValueError
        ZoneInfo(zone.strip())
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"{where}.timezone: not a known time zone name (e.g. 'Europe/Paris', 'UTC'), "
                          f"got {zone!r}") from None
    return QuietHours(start, end, zone.strip())


_RULE_FIELDS = {f.name for f in fields(Rule)}
_CHANNEL_FIELDS = {f.name for f in fields(ChannelConfig)}


def _parse_channel(item: Any, where: str) -> ChannelConfig:
    _check_keys(item, _CHANNEL_FIELDS, where, "name, kind and target or env")
    name = _name(item, "name", where)
    kind = item.get("kind")
    if kind not in CHANNEL_KINDS:
        raise ConfigError(f"{where}: field 'kind': must be one of {list(CHANNEL_KINDS)}, got {kind!r}")
    target, env = item.get("target"), item.get("env")
    if kind == "file":
        if not isinstance(target, str) or not target.strip():
            raise ConfigError(f"{where}: field 'target' is required for kind file: the JSON Lines path")
        if env is not None:
            raise ConfigError(f"{where}: field 'env' is only for kind apprise")
        return ChannelConfig(name, kind, target.strip(), None)
    if target is not None:
        raise ConfigError(f"{where}: field 'target': never put an Apprise URL in the repository; "
                          f"set it in the environment variable named by 'env' "
                          f"(default {default_channel_env(name)})")
    if env is None:
        env = default_channel_env(name)
    if not isinstance(env, str) or not _ENV_RE.match(env):
        raise ConfigError(f"{where}: field 'env': an environment variable name, got {env!r}")
    return ChannelConfig(name, kind, None, env)


def _parse_rule(item: Any, where: str, channels: Mapping[str, ChannelConfig]) -> Rule:
    _check_keys(item, _RULE_FIELDS, where, "name, topic, channels...")
    name = _name(item, "name", where)
    topic = _name(item, "topic", where)
    min_score = item.get("min_score", 0.5)
    if (isinstance(min_score, bool) or not isinstance(min_score, int | float) or math.isnan(min_score)
            or not 0 <= min_score <= 1):
        raise ConfigError(f"{where}: field 'min_score': a number from 0 to 1, got {min_score!r}")
    languages = _strings(item, "languages", where, _LANG_RE, "an ISO 639 code such as 'fr'")
    sources = _strings(item, "sources", where, _NAME_RE, "a source name as in config/feeds.yml")
    tags = _strings(item, "tags", where)
    entities = _strings(item, "required_entities", where)
    rule_channels = _strings(item, "channels", where)
    if not rule_channels:
        raise ConfigError(f"{where}: field 'channels': list at least one channel")
    for index, channel in enumerate(rule_channels):
        if channel not in channels:
            raise ConfigError(f"{where}: field 'channels'[{index}]: unknown channel {channel!r}; "
                              f"defined: {sorted(channels)}")
    mode = item.get("mode", "immediate")
    if mode not in MODES:
        raise ConfigError(f"{where}: field 'mode': must be one of {list(MODES)}, got {mode!r}")
    cron = item.get("digest_cron")
    if mode == "digest":
        if not isinstance(cron, str) or not cron.strip():
            raise ConfigError(f"{where}: field 'digest_cron' is required for mode digest, e.g. \"0 7 * * *\"")
        problem = validate_cron(cron)
        if problem:
            raise ConfigError(f"{where}: field 'digest_cron': {problem}")
        cron = " ".join(cron.split())
    elif cron is not None:
        raise ConfigError(f"{where}: field 'digest_cron' is only for mode digest")
    attach_report = item.get("attach_report", False)
    if not isinstance(attach_report, bool):
        raise ConfigError(f"{where}: field 'attach_report': expected true or false, got {attach_report!r}")
    if attach_report and mode != "digest":
        raise ConfigError(f"{where}: field 'attach_report' is only for mode digest (an immediate alert "
                          f"has no report to attach); remove it or set mode: digest")
    per = item.get("per", "story")
    if per not in PER:
        raise ConfigError(f"{where}: field 'per': must be one of {list(PER)}, got {per!r}")
    quiet = item.get("quiet_hours")
    quiet_hours = None if quiet is None else _quiet_hours(quiet, f"{where}: field 'quiet_hours'")
    return Rule(per=per, name=name, topic=topic, min_score=float(min_score), languages=languages,
                sources=sources,
                tags=tags, required_entities=entities, channels=rule_channels, mode=mode,
                digest_cron=cron, quiet_hours=quiet_hours, attach_report=attach_report)


def parse_alert_config(data: Any, source: str = "<alerts>") -> AlertConfig:
    """Validate parsed YAML ``data``; errors name ``source``, the rule or channel and the field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with 'channels:' and 'rules:' lists at the top")
    unknown = set(data) - {"channels", "rules"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {sorted(map(str, unknown))}; "
                          f"only 'channels' and 'rules'")
    sections: dict[str, list[Any]] = {}
    for key in ("channels", "rules"):
        value = data.get(key)
        if value is None:
            value = []
        if not isinstance(value, list):
            raise ConfigError(f"{source}: '{key}' must be a list, got {type(value).__name__}")
        sections[key] = value
    channels: dict[str, ChannelConfig] = {}
    for index, item in enumerate(sections["channels"]):
        where = _where(source, "channels", index, item)
        channel = _parse_channel(item, where)
        if channel.name in channels:
            raise ConfigError(f"{where}: field 'name': duplicate channel {channel.name!r}")
        channels[channel.name] = channel
    rules: list[Rule] = []
    for index, item in enumerate(sections["rules"]):
        where = _where(source, "rules", index, item)
        rule = _parse_rule(item, where, channels)
        if any(r.name == rule.name for r in rules):
            raise ConfigError(f"{where}: field 'name': duplicate rule {rule.name!r}")
        rules.append(rule)
    return AlertConfig(tuple(rules), channels)


def _where(source: str, section: str, index: int, item: Any) -> str:
    where = f"{source}: {section}[{index}]"
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        where += f" ({section[:-1]} {item['name']!r})"
    return where


def load_alert_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> AlertConfig:
    """Read and validate the alerts file (default ``NEWSMON_ALERTS_FILE`` or ``config/alerts.yml``)."""
    env = os.environ if env is None else env
    if path is None:
        path = env.get("NEWSMON_ALERTS_FILE") or DEFAULT_ALERTS_FILE
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the alerts file: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_alert_config(data, str(path))


# ---------------------------------------------------------------------------- matching

def _folded(values: Sequence[str | None]) -> set[str]:
    return {v.casefold() for v in values if isinstance(v, str) and v}


def rule_matches(rule: Rule, story: StoryFacts) -> tuple[bool, list[str]]:
    """Whether ``story`` passes ``rule``, with the reasons: every failed check when it does not,
    every passed check when it does. Languages, sources and tags pass when any of the story's
    values is listed; every required entity must be among ``story.entities`` (case-insensitive)."""
    failed: list[str] = []
    passed: list[str] = []
    why_topic = story.why.get("topic") if isinstance(story.why, dict) else None
    if isinstance(why_topic, str) and why_topic != rule.topic:
        failed.append(f"topic {why_topic!r} is not the rule's topic {rule.topic!r}")
    score = story.score if isinstance(story.score, int | float) else math.nan
    if score >= rule.min_score:
        passed.append(f"score {score:.2f} >= {rule.min_score:.2f}")
    else:
        failed.append(f"score {score:.2f} below {rule.min_score:.2f}")
    for label, wanted, have in (
            ("language", rule.languages, [story.language, *story.languages]),
            ("source", rule.sources, [story.source, *story.sources]),
            ("tag", rule.tags, list(story.source_tags))):
        if not wanted:
            continue
        common = sorted(_folded(wanted) & _folded(have))
        shown = ", ".join(sorted({h for h in have if h})) or "none"
        if common:
            passed.append(f"{label} {', '.join(common)} in {list(wanted)}")
        else:
            failed.append(f"{label} ({shown}) not in {list(wanted)}")
    if rule.required_entities:
        mentioned = _folded(story.entities)
        missing = [e for e in rule.required_entities if e.casefold() not in mentioned]
        if missing:
            failed.append(f"required entities not mentioned: {', '.join(missing)}")
        else:
            passed.append(f"mentions {', '.join(rule.required_entities)}")
    return (not failed, failed or passed)


def _local(now: datetime.datetime, quiet: QuietHours) -> datetime.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now.astimezone(ZoneInfo(quiet.timezone))


def _inside(quiet: QuietHours, t: datetime.time) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= t < quiet.end
    return t >= quiet.start or t < quiet.end


def in_quiet_hours(rule: Rule, now: datetime.datetime) -> bool:
    """Whether ``now`` (aware) falls in the rule's quiet hours, read in their time zone."""
    if rule.quiet_hours is None:
        return False
    local = _local(now, rule.quiet_hours)
    return _inside(rule.quiet_hours, local.time().replace(tzinfo=None))


def next_allowed_time(rule: Rule, now: datetime.datetime) -> datetime.datetime:
    """``now`` outside quiet hours, else the end of the current window (in UTC)."""
    quiet = rule.quiet_hours
    if quiet is None or not in_quiet_hours(rule, now):
        return now
    local = _local(now, quiet)
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += datetime.timedelta(days=1)
    end = datetime.datetime.combine(day, quiet.end, tzinfo=ZoneInfo(quiet.timezone)).astimezone(_UTC)
    return max(end, now.astimezone(_UTC))


# ---------------------------------------------------------------------------- rendering

def _text(value: Any, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(story: StoryFacts) -> str:
    if isinstance(story.title, str) and story.title.strip():
        return _text(story.title, 250)
    return f"(untitled story #{story.story_id})"


def _iso(moment: Any) -> str | None:
    if not isinstance(moment, datetime.datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return round(float(value), 4)


def _entity_items(value: Any) -> list[Any]:
    if isinstance(value, dict):  # {group: [mention, ...]} as written by newsmon.tagging.topics
        return [item for group in value.values() if isinstance(group, list) for item in group]
    return value if isinstance(value, list) else []


def summarize_why(why: Any) -> list[str]:
    """One or two readable lines from a topic's ``why``; unknown shapes give less detail, never fail."""
    if not isinstance(why, dict):
        return []
    lines: list[str] = []
    names: dict[str, bool] = {}
    for item in _entity_items(why.get("entities")):
        name = item.get("entity") or item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            in_title = isinstance(item, dict) and item.get("in_title") is True
            names[_text(name, 60)] = names.get(_text(name, 60), False) or in_title
    if names:
        shown = [f"{n} (in title)" if t else n for n, t in list(names.items())[:6]]
        more = f" and {len(names) - 6} more" if len(names) > 6 else ""
        line = f"mentions {', '.join(shown)}{more}"
        units = why.get("cooccurring_units")
        if isinstance(units, list) and units:
            titled = any(isinstance(u, dict) and u.get("in_title") is True for u in units)
            count = sum(1 for u in units if not (isinstance(u, dict) and u.get("in_title") is True))
            where = [w for w in ("the title" if titled else "",
                                 f"{count} sentence{'s' if count != 1 else ''}" if count else "") if w]
            line += f"; together in {' and '.join(where)}" if where else ""
        lines.append(line)
    terms: list[str] = []
    raw_terms = why.get("terms")
    if isinstance(raw_terms, dict):
        terms = [_text(k, 40) for k in raw_terms if isinstance(k, str)]
    elif isinstance(raw_terms, list):
        for item in raw_terms:
            term = (item.get("term") or item.get("surface")) if isinstance(item, dict) else item
            if isinstance(term, str) and term.strip() and _text(term, 40) not in terms:
                terms.append(_text(term, 40))
    if terms:
        more = f" and {len(terms) - 8} more" if len(terms) > 8 else ""
        lines.append(f"terms: {', '.join(terms[:8])}{more}")
    if not lines:
        components = why.get("components")
        if isinstance(components, dict):
            parts = []
            for name, value in components.items():
                contribution = value.get("contribution") if isinstance(value, dict) else value
                number = _score(contribution)
                if number:
                    parts.append(f"{_text(name, 30)} {number:.2f}")
            if parts:
                lines.append(f"score components: {', '.join(parts[:6])}")
    return lines[:2]


def _story_payload(story: StoryFacts) -> dict[str, Any]:
    why = story.why if isinstance(story.why, dict) else {}
    return {"story_id": story.story_id, "headline": _headline(story), "link": story.url,
            "source": story.source, "language": story.language, "published_at": _iso(story.published_at),
            "score": _score(story.score), "threshold": _score(why.get("threshold")),
            "why": summarize_why(why), "article_count": story.article_count,
            "source_count": story.source_count, "sources": list(story.sources),
            "languages": list(story.languages)}


def _counts(story: StoryFacts) -> str:
    articles, sources = story.article_count, story.source_count
    return (f"{articles} article{'s' if articles != 1 else ''} from "
            f"{sources} source{'s' if sources != 1 else ''} so far")


def _story_lines(story: StoryFacts) -> list[str]:
    facts = _story_payload(story)
    score = "unknown" if facts["score"] is None else f"{facts['score']:.2f}"
    if facts["threshold"] is not None:
        score += f" (threshold {facts['threshold']:.2f})"
    lines = [f"Source: {story.source or 'unknown'} | Language: {story.language or 'unknown'} | "
             f"Published: {facts['published_at'] or 'unknown'}",
             f"Score: {score}"]
    lines += [f"Why: {line}" for line in facts["why"]]
    lines += [f"Link: {story.url or '(none)'}", _counts(story)]
    return lines


def render_alert(rule: Rule, story: StoryFacts) -> Message:
    """The message for one story matching an immediate rule."""
    headline = _headline(story)
    body = "\n".join([headline, *_story_lines(story), f"Rule: {rule.name} (topic {rule.topic})"])
    payload = {"kind": "alert", "rule": rule.name, "topic": rule.topic, "story_ids": [story.story_id],
               **_story_payload(story)}
    return Message(title=_text(f"[{rule.topic}] {headline}", 250), body=body, payload=payload)


def render_digest(rule: Rule, stories: Sequence[StoryFacts], updates: Mapping[int, int]) -> Message:
    """A digest: one block per story (in the given order), then updates (``story_id`` -> articles
    added since the story was alerted)."""
    blocks: list[str] = []
    items: list[dict[str, Any]] = []
    listed = {s.story_id for s in stories}
    for number, story in enumerate(stories, 1):
        lines = [f"{number}. {_headline(story)}", *(f"   {line}" for line in _story_lines(story))]
        added = updates.get(story.story_id, 0)
        if added:
            lines.append(f"   +{added} article{'s' if added != 1 else ''} since alerted")
        blocks.append("\n".join(lines))
        items.append({**_story_payload(story), "new_articles": added})
    others = [(sid, n) for sid, n in updates.items() if sid not in listed and n]
    if others:
        blocks.append("\n".join(["Updates to stories already alerted:",
                                 *(f"- story #{sid}: +{n} article{'s' if n != 1 else ''} since alerted"
                                   for sid, n in others)]))
    count = len(stories)
    header = (f"Digest for rule {rule.name} (topic {rule.topic}): {count} stor{'ies' if count != 1 else 'y'}"
              + (f", {len(others)} other update{'s' if len(others) != 1 else ''}" if others else ""))
    body = "\n\n".join([header, *blocks]) if blocks else header + "\nNothing new."
    payload = {"kind": "digest", "rule": rule.name, "topic": rule.topic,
               "story_ids": [s.story_id for s in stories], "stories": items,
               "updates": [{"story_id": sid, "new_articles": n} for sid, n in updates.items()]}
    title = f"[{rule.topic}] digest: {count} stor{'ies' if count != 1 else 'y'}"
    return Message(title=title, body=body, payload=payload)
