"""Alert rules: the YAML validated with messages naming file, rule/channel and field; matching,
quiet hours and message rendering (all pure)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from newsmon.alerts.rules import (
    DEFAULT_ALERTS_FILE,
    AlertConfig,
    ChannelConfig,
    QuietHours,
    Rule,
    StoryFacts,
    in_quiet_hours,
    load_alert_config,
    next_allowed_time,
    render_alert,
    render_digest,
    rule_matches,
    summarize_why,
    validate_cron,
)
from newsmon.core.errors import ConfigError

UTC = datetime.UTC

VALID = """\
channels:
  - name: demo_file
    kind: file
    target: .local/alerts/test.jsonl
  - name: ops
    kind: apprise
  - name: team.slack
    kind: apprise
    env: SLACK_URL
rules:
  - name: immediate
    topic: nato_russia
    channels: [demo_file, ops]
    quiet_hours: {start: "22:30", end: "07:00", timezone: Europe/Paris}
  - name: digest
    topic: nato_russia
    min_score: 0.7
    languages: [fr, en]
    sources: [le-monde]
    tags: [france]
    required_entities: [NATO, Russia]
    channels: [team.slack]
    mode: digest
    digest_cron: "0  7 * * mon-fri"
    attach_report: true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    """A valid file gives typed rules and channels, with defaults filled in."""
    config = load_alert_config(_write(tmp_path, VALID), env={})
    assert config == AlertConfig(
        rules=(
            Rule(name="immediate", topic="nato_russia", channels=("demo_file", "ops"),
                 quiet_hours=QuietHours(datetime.time(22, 30), datetime.time(7, 0), "Europe/Paris")),
            Rule(name="digest", topic="nato_russia", min_score=0.7, languages=("fr", "en"),
                 sources=("le-monde",), tags=("france",), required_entities=("NATO", "Russia"),
                 channels=("team.slack",), mode="digest", digest_cron="0 7 * * mon-fri",
                 attach_report=True),
        ),
        channels={
            "demo_file": ChannelConfig("demo_file", "file", ".local/alerts/test.jsonl", None),
            "ops": ChannelConfig("ops", "apprise", None, "NEWSMON_CHANNEL_OPS"),
            "team.slack": ChannelConfig("team.slack", "apprise", None, "SLACK_URL"),
        })


def test_default_path_comes_from_environment(tmp_path: Path) -> None:
    """Without a path, NEWSMON_ALERTS_FILE is read, else config/alerts.yml."""
    path = _write(tmp_path, VALID)
    assert load_alert_config(env={"NEWSMON_ALERTS_FILE": str(path)}).rules[0].name == "immediate"
    assert load_alert_config(env={}) == load_alert_config(DEFAULT_ALERTS_FILE)


def test_shipped_file_is_valid() -> None:
    """config/alerts.yml ships the demo file channel, the ops channel and the two NATO–Russia rules."""
    config = load_alert_config(DEFAULT_ALERTS_FILE, env={})
    assert config.channels["demo_file"] == ChannelConfig("demo_file", "file", ".local/alerts/alerts.jsonl",
                                                         None)
    assert config.channels["ops"] == ChannelConfig("ops", "apprise", None, "NEWSMON_CHANNEL_OPS")
    rules = {r.name: r for r in config.rules}
    assert rules["nato_russia_immediate"] == Rule("nato_russia_immediate", "nato_russia", 0.5,
                                                  channels=("demo_file",))
    assert rules["nato_russia_digest"] == Rule("nato_russia_digest", "nato_russia", 0.5,
                                               languages=("fr", "en"), channels=("demo_file",),
                                               mode="digest", digest_cron="0 7 * * *",
                                               attach_report=True)


def _rule(**fields: str) -> str:
    lines = {"name": "r1", "topic": "nato_russia", "channels": "[f1]", **fields}
    return "  - " + "\n    ".join(f"{k}: {v}" for k, v in lines.items() if v != "DROP") + "\n"


_CHANNELS = "channels:\n  - {name: f1, kind: file, target: out.jsonl}\n"

# (case, file text, fragments the message must contain)
INVALID: list[tuple[str, str, list[str]]] = [
    ("not a mapping", "- a\n", ["expected a mapping"]),
    ("unknown top key", _CHANNELS + "rules: []\nrule: []\n", ["unknown top-level key", "'rule'"]),
    ("rules not a list", _CHANNELS + "rules: {a: 1}\n", ["'rules' must be a list"]),
    ("unknown rule field", _CHANNELS + "rules:\n" + _rule(min_scor="0.5"),
     ["rules[0] (rule 'r1')", "unknown field", "min_scor"]),
    ("missing topic", _CHANNELS + "rules:\n" + _rule(topic="DROP"),
     ["rules[0] (rule 'r1')", "field 'topic'"]),
    ("bad rule name", _CHANNELS + "rules:\n" + _rule(name="Bad Name"), ["rules[0]", "field 'name'"]),
    ("duplicate rule", _CHANNELS + "rules:\n" + _rule() + _rule(),
     ["rules[1] (rule 'r1')", "field 'name'", "duplicate"]),
    ("score above 1", _CHANNELS + "rules:\n" + _rule(min_score="1.5"), ["(rule 'r1')", "field 'min_score'"]),
    ("score not a number", _CHANNELS + "rules:\n" + _rule(min_score="high"), ["field 'min_score'"]),
    ("score a boolean", _CHANNELS + "rules:\n" + _rule(min_score="true"), ["field 'min_score'"]),
    ("languages not a list", _CHANNELS + "rules:\n" + _rule(languages="fr"), ["field 'languages'", "list"]),
    ("bad language", _CHANNELS + "rules:\n" + _rule(languages="[french]"), ["field 'languages'[0]"]),
    ("empty entity", _CHANNELS + "rules:\n" + _rule(required_entities="['']"),
     ["field 'required_entities'[0]"]),
    ("no channels", _CHANNELS + "rules:\n" + _rule(channels="[]"), ["(rule 'r1')", "field 'channels'"]),
    ("unknown channel", _CHANNELS + "rules:\n" + _rule(channels="[f1, nope]"),
     ["(rule 'r1')", "field 'channels'[1]", "unknown channel 'nope'"]),
    ("bad mode", _CHANNELS + "rules:\n" + _rule(mode="hourly"), ["field 'mode'", "hourly"]),
    ("digest without cron", _CHANNELS + "rules:\n" + _rule(mode="digest"),
     ["(rule 'r1')", "field 'digest_cron'"]),
    ("cron on immediate", _CHANNELS + "rules:\n" + _rule(digest_cron="'0 7 * * *'"),
     ["field 'digest_cron'", "only for mode digest"]),
    ("report on immediate", _CHANNELS + "rules:\n" + _rule(attach_report="true"),
     ["(rule 'r1')", "field 'attach_report'", "only for mode digest"]),
    ("report not a boolean", _CHANNELS + "rules:\n"
     + _rule(mode="digest", digest_cron="'0 7 * * *'", attach_report="'yes'"),
     ["(rule 'r1')", "field 'attach_report'", "true or false", "'yes'"]),
    ("cron 4 fields", _CHANNELS + "rules:\n" + _rule(mode="digest", digest_cron="'0 7 * *'"),
     ["field 'digest_cron'", "expected 5 fields"]),
    ("cron hour 24", _CHANNELS + "rules:\n" + _rule(mode="digest", digest_cron="'0 24 * * *'"),
     ["field 'digest_cron'", "hour", "0-23"]),
    ("cron bad step", _CHANNELS + "rules:\n" + _rule(mode="digest", digest_cron="'*/0 * * * *'"),
     ["field 'digest_cron'", "minute", "step"]),
    ("quiet hours bad time", _CHANNELS + "rules:\n"
     + _rule(quiet_hours="{start: '25:00', end: '07:00', timezone: UTC}"),
     ["(rule 'r1')", "field 'quiet_hours'.start", "HH:MM"]),
    ("quiet hours unquoted", _CHANNELS + "rules:\n"
     + _rule(quiet_hours="{start: 22:00, end: '07:00', timezone: UTC}"),
     ["field 'quiet_hours'.start", "quote"]),
    ("quiet hours bad zone", _CHANNELS + "rules:\n"
     + _rule(quiet_hours="{start: '22:00', end: '07:00', timezone: Mars/Olympus}"),
     ["field 'quiet_hours'.timezone", "Mars/Olympus"]),
    ("quiet hours missing end", _CHANNELS + "rules:\n" + _rule(quiet_hours="{start: '22:00', timezone: UTC}"),
     ["field 'quiet_hours'", "'end' is required"]),
    ("quiet hours empty", _CHANNELS + "rules:\n"
     + _rule(quiet_hours="{start: '07:00', end: '07:00', timezone: UTC}"), ["field 'quiet_hours'", "empty"]),
    ("quiet hours unknown key", _CHANNELS + "rules:\n"
     + _rule(quiet_hours="{start: '22:00', end: '07:00', timezone: UTC, days: [mon]}"),
     ["field 'quiet_hours'", "unknown field", "days"]),
    ("channel unknown field", "channels:\n  - {name: c1, kind: file, target: a.jsonl, url: x}\nrules: []\n",
     ["channels[0] (channel 'c1')", "unknown field", "url"]),
    ("channel bad kind", "channels:\n  - {name: c1, kind: slack}\nrules: []\n",
     ["channels[0] (channel 'c1')", "field 'kind'"]),
    ("file channel no target", "channels:\n  - {name: c1, kind: file}\nrules: []\n",
     ["(channel 'c1')", "field 'target'"]),
    ("apprise URL in repo", "channels:\n  - {name: c1, kind: apprise, target: 'slack://a/b/c'}\nrules: []\n",
     ["(channel 'c1')", "field 'target'", "NEWSMON_CHANNEL_C1"]),
    ("bad env name", "channels:\n  - {name: c1, kind: apprise, env: 'NOT A VAR'}\nrules: []\n",
     ["(channel 'c1')", "field 'env'"]),
    ("duplicate channel",
     "channels:\n  - {name: c1, kind: apprise}\n  - {name: c1, kind: apprise}\nrules: []\n",
     ["channels[1] (channel 'c1')", "field 'name'", "duplicate"]),
    ("not YAML", "rules: [\n", ["not valid YAML"]),
]


@pytest.mark.parametrize(("text", "fragments"), [(t, f) for _, t, f in INVALID],
                         ids=[c for c, _, _ in INVALID])
def test_invalid_config_names_file_entry_and_field(tmp_path: Path, text: str, fragments: list[str]) -> None:
    """Each invalid file gives a ConfigError naming the file, the rule or channel and the field."""
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_alert_config(path, env={})
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message


def test_missing_file_names_it(tmp_path: Path) -> None:
    """A missing file is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=r"nope\.yml"):
        load_alert_config(tmp_path / "nope.yml")


@pytest.mark.parametrize(("expression", "valid"), [
    ("0 7 * * *", True), ("*/15 8-18 * * 1-5", True), ("0 0 1,15 jan-jun sun", True), ("59 23 31 12 7", True),
    ("0 7 * *", False), ("60 * * * *", False), ("0 0 0 * *", False), ("0 0 * 13 *", False),
    ("0 0 * * 8", False), ("5-1 * * * *", False), ("a * * * *", False), ("@daily", False),
    ("0 7 * * * *", False),
])
def test_validate_cron(expression: str, valid: bool) -> None:
    """Cron expressions: 5 fields, numbers/names/ranges/steps/lists within each field's range."""
    assert (validate_cron(expression) is None) is valid


# ---------------------------------------------------------------------------- matching

STORY = StoryFacts(
    story_id=42, title="NATO warns Russia over Baltic airspace incidents", url="https://news.example/nato-russia",
    source="le-monde", source_tags=("france", "national"), language="fr",
    published_at=datetime.datetime(2024, 5, 1, 8, 30, tzinfo=UTC), score=0.72,
    entities=("NATO", "Russia", "Baltic Sea"),
    why={"topic": "nato_russia", "score": 0.72, "threshold": 0.5,
         "entities": {"nato": [{"entity": "NATO", "surface": "NATO", "sentence": 0, "in_title": True}],
                      "russia": [{"entity": "Russia", "surface": "Russia", "sentence": 0, "in_title": True},
                                 {"entity": "Kremlin", "surface": "le Kremlin", "sentence": 3,
                                  "in_title": False}]},
         "cooccurring_units": [{"in_title": True, "sentence": 0}, {"in_title": False, "sentence": 2}],
         "terms": {"warning": {"weight": 1.0, "hits": [{"term": "warn"}]}, "airspace": {"hits": []}},
         "components": {"nato": {"contribution": 0.25}}},
    article_count=3, source_count=2, sources=("le-monde", "bbc"), languages=("fr", "en"))

RULE = Rule(name="r", topic="nato_russia", channels=("c",))

# (case, rule changes, story changes, matched, fragment of the reasons)
MATCHES: list[tuple[str, dict[str, Any], dict[str, Any], bool, str]] = [
    ("plain match", {}, {}, True, "score 0.72 >= 0.50"),
    ("score below min", {"min_score": 0.8}, {}, False, "score 0.72 below 0.80"),
    ("score equal to min", {"min_score": 0.72}, {}, True, "score"),
    ("other topic", {"topic": "other"}, {}, False, "topic 'nato_russia'"),
    ("language listed", {"languages": ("fr",)}, {}, True, "language fr"),
    ("any story language counts", {"languages": ("en",)}, {}, True, "language en"),
    ("wrong language", {"languages": ("de",)}, {}, False, "language (en, fr) not in ['de']"),
    ("language unknown", {"languages": ("fr",)}, {"language": None, "languages": ()}, False,
     "language (none)"),
    ("source listed", {"sources": ("bbc",)}, {}, True, "source bbc"),
    ("source not listed", {"sources": ("reuters",)}, {}, False, "source"),
    ("tag listed", {"tags": ("france",)}, {}, True, "tag france"),
    ("tag not listed", {"tags": ("uk",)}, {}, False, "tag (france, national) not in ['uk']"),
    ("entities present", {"required_entities": ("NATO", "russia")}, {}, True, "mentions NATO, russia"),
    ("entity missing", {"required_entities": ("NATO", "Belarus")}, {}, False,
     "required entities not mentioned: Belarus"),
    ("several failures", {"min_score": 0.9, "tags": ("uk",)}, {}, False, "tag"),
]


@pytest.mark.parametrize(("rule_changes", "story_changes", "matched", "fragment"),
                         [m[1:] for m in MATCHES], ids=[m[0] for m in MATCHES])
def test_rule_matches(rule_changes: dict[str, Any], story_changes: dict[str, Any], matched: bool,
                      fragment: str) -> None:
    """rule_matches applies score, topic, language, source, tag and entity filters, with reasons."""
    rule = dataclasses.replace(RULE, **rule_changes)
    ok, reasons = rule_matches(rule, dataclasses.replace(STORY, **story_changes))
    assert ok is matched
    assert any(fragment in r for r in reasons), reasons


def test_rule_matches_lists_every_failure() -> None:
    """When several checks fail, every one is a reason."""
    rule = dataclasses.replace(RULE, min_score=0.9, tags=("uk",), languages=("de",))
    ok, reasons = rule_matches(rule, STORY)
    assert not ok and len(reasons) == 3


# ---------------------------------------------------------------------------- quiet hours

NIGHT_PARIS = QuietHours(datetime.time(22, 0), datetime.time(7, 0), "Europe/Paris")
LUNCH_TOKYO = QuietHours(datetime.time(12, 0), datetime.time(13, 30), "Asia/Tokyo")


def _utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


# (quiet hours, now in UTC, in quiet hours, next allowed time in UTC)
QUIET: list[tuple[QuietHours | None, str, bool, str]] = [
    (None, "2024-01-15T23:00", False, "2024-01-15T23:00"),
    # Paris in winter is UTC+1: the window is 21:00-06:00 UTC
    (NIGHT_PARIS, "2024-01-15T20:59", False, "2024-01-15T20:59"),
    (NIGHT_PARIS, "2024-01-15T21:00", True, "2024-01-16T06:00"),
    (NIGHT_PARIS, "2024-01-15T23:30", True, "2024-01-16T06:00"),
    (NIGHT_PARIS, "2024-01-16T02:00", True, "2024-01-16T06:00"),
    (NIGHT_PARIS, "2024-01-16T06:00", False, "2024-01-16T06:00"),
    # in summer UTC+2: 20:00-05:00 UTC
    (NIGHT_PARIS, "2024-07-15T20:30", True, "2024-07-16T05:00"),
    (NIGHT_PARIS, "2024-07-16T05:30", False, "2024-07-16T05:30"),
    # across the spring-forward night: 22:00 CET to 07:00 CEST
    (NIGHT_PARIS, "2024-03-30T22:00", True, "2024-03-31T05:00"),
    # Tokyo is UTC+9, no DST, window does not cross midnight: 03:00-04:30 UTC
    (LUNCH_TOKYO, "2024-01-15T03:15", True, "2024-01-15T04:30"),
    (LUNCH_TOKYO, "2024-01-15T04:30", False, "2024-01-15T04:30"),
    (LUNCH_TOKYO, "2024-01-15T02:59", False, "2024-01-15T02:59"),
]


@pytest.mark.parametrize(("quiet", "now", "inside", "allowed"), QUIET)
def test_quiet_hours_and_next_allowed_time(quiet: QuietHours | None, now: str, inside: bool,
                                            allowed: str) -> None:
    """Quiet hours are read in their time zone, may cross midnight; alerts wait for their end."""
    rule = dataclasses.replace(RULE, quiet_hours=quiet)
    assert in_quiet_hours(rule, _utc(now)) is inside
    result = next_allowed_time(rule, _utc(now))
    assert result == _utc(allowed) and result.utcoffset() == datetime.timedelta(0)


def test_quiet_hours_accept_other_offsets_and_refuse_naive() -> None:
    """An aware time in another zone works; a naive one is refused."""
    rule = dataclasses.replace(RULE, quiet_hours=NIGHT_PARIS)
    paris_23h = datetime.datetime(2024, 1, 15, 23, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert in_quiet_hours(rule, paris_23h)
    with pytest.raises(ValueError, match="aware"):
        in_quiet_hours(rule, datetime.datetime(2024, 1, 15, 23, 0))


# ---------------------------------------------------------------------------- rendering

def test_render_alert_contains_the_facts() -> None:
    """An alert gives headline, source, language, time, score, why, link and counts."""
    message = render_alert(RULE, STORY)
    assert "NATO warns Russia" in message.title
    for fragment in ("NATO warns Russia over Baltic airspace incidents", "Source: le-monde", "Language: fr",
                     "2024-05-01T08:30:00Z", "Score: 0.72 (threshold 0.50)",
                     "Why: mentions NATO (in title), Russia (in title), Kremlin; "
                     "together in the title and 1 sentence",
                     "Why: terms: warning, airspace", "Link: https://news.example/nato-russia",
                     "3 articles from 2 sources so far", "Rule: r"):
        assert fragment in message.body, message.body
    payload = json.loads(json.dumps(message.payload))
    assert payload["rule"] == "r" and payload["story_ids"] == [42] and payload["score"] == 0.72
    assert payload["headline"].startswith("NATO warns") and payload["link"] == STORY.url
    assert payload["article_count"] == 3 and payload["source_count"] == 2 and payload["why"]


def test_render_alert_with_missing_facts() -> None:
    """A story without title, link, source or date still renders."""
    story = dataclasses.replace(STORY, title=None, url=None, source=None, language=None, published_at=None,
                                why={}, article_count=1, source_count=1)
    message = render_alert(RULE, story)
    assert "(untitled story #42)" in message.title
    for fragment in ("Source: unknown", "Published: unknown", "Link: (none)",
                     "1 article from 1 source so far"):
        assert fragment in message.body
    assert "Why:" not in message.body


def test_render_digest_groups_stories_and_lists_updates() -> None:
    """A digest has one block per story, '+N articles since alerted' for updates, other updates last."""
    second = dataclasses.replace(STORY, story_id=7, title="Kremlin answers NATO", url="https://news.example/2")
    message = render_digest(RULE, [STORY, second], {7: 3, 99: 1, 42: 0})
    body = message.body
    assert "2 stories" in message.title
    positions = [body.index(s) for s in ("1. NATO warns Russia", "2. Kremlin answers NATO", "story #99")]
    assert positions == sorted(positions)
    assert "+3 articles since alerted" in body and "story #99: +1 article since alerted" in body
    assert body.count("Link: ") == 2 and body.count("so far") == 2
    payload = json.loads(json.dumps(message.payload))
    assert payload["story_ids"] == [42, 7]
    assert [s["new_articles"] for s in payload["stories"]] == [0, 3]
    assert {"story_id": 99, "new_articles": 1} in payload["updates"]


def test_empty_digest() -> None:
    """A digest with nothing says so."""
    assert "Nothing new" in render_digest(RULE, [], {}).body


# Shapes of `why` seen or imaginable: none may crash rendering.
WHY_SHAPES: list[tuple[Any, list[str]]] = [
    ({}, []),
    (None, []),
    ("a string", []),
    ({"entities": "NATO"}, []),
    ({"entities": [{"name": "NATO"}, {"entity": "Russia", "in_title": True}, "Kremlin", 3, None]},
     ["mentions NATO, Russia (in title), Kremlin"]),
    ({"entities": {"g": "not a list", "h": [{"entity": None}, {"surface": "x"}]}}, []),
    ({"terms": ["talks", {"term": "warning"}, {"surface": "missile"}, 5]},
     ["terms: talks, warning, missile"]),
    ({"terms": 12, "components": {"nato": {"contribution": 0.25}, "x": "junk", "y": 0.1}},
     ["score components: nato 0.25, y 0.10"]),
    ({"entities": [{"entity": "NATO"}], "cooccurring_units": "junk"}, ["mentions NATO"]),
    ({"entities": [{"entity": f"E{i}"} for i in range(9)]}, ["mentions E0, E1, E2, E3, E4, E5 and 3 more"]),
]


@pytest.mark.parametrize(("why", "lines"), WHY_SHAPES)
def test_why_is_read_defensively(why: Any, lines: list[str]) -> None:
    """Unknown shapes of `why` give less detail, never an error; alerts still render."""
    assert summarize_why(why) == lines
    message = render_alert(RULE, dataclasses.replace(STORY, why=why))
    assert "Link: " in message.body
    json.dumps(message.payload)
