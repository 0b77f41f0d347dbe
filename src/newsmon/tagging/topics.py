"""Topic scoring: is an article about a configured topic (NATO–Russia relations, ...)?

Topics are data (``config/topics/*.yml``, see the README there): entity groups (by canonical
name and/or gazetteer ``side``), weighted term concepts per language, a title weight, a
same-sentence co-occurrence component, whether every group must appear, and a threshold.

The score is a weighted sum of saturating components, each in [0, 1]::

    score = sum(weight_g * min(1, evidence_g / saturation_g) for each group g)
          + weight_c * min(1, cooccurring_units / saturation_c)
          + weight_t * min(1, term_evidence / saturation_t)

A mention adds its strength's weight (strong, short, weak, embedded) to its group's evidence,
times ``title_weight`` in the title; weak mentions count as evidence even when they do not
count as entity mentions ("the Alliance", "russe"). A unit is the title or one sentence of
the text; it co-occurs when every group is mentioned in it. Each term concept counts once,
times ``title_weight`` when it occurs in the title. With ``require_all_groups``, an article
missing a group scores 0. ``why`` explains the result in JSON-serializable form.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmon.core.config import PROJECT_ROOT, read_yaml
from newsmon.core.errors import ConfigError
from newsmon.tagging.entities import Mention, default_gazetteer, flatten, tag
from newsmon.tagging.gazetteer import LANGUAGES, REQUIRED_LANGUAGES, SIDES, Gazetteer
from newsmon.tagging.keywords import Concept, TermHit, TermIndex, term_hits_parts

DEFAULT_TOPICS_DIR = PROJECT_ROOT / "config" / "topics"
MENTION_KINDS = ("strong", "short", "weak", "embedded")
_TOPIC_FIELDS = frozenset({"name", "label", "description", "threshold", "title_weight", "mention_weights",
                           "require_all_groups", "groups", "cooccurrence", "terms", "lead_sentences",
                           "signals", "rules", "includes"})
_SIGNAL_FIELDS = frozenset({"groups", "concepts", "weak"})
_RULE_FIELDS = frozenset({"name", "all", "none", "weight"})
_GROUP_FIELDS = frozenset({"weight", "saturation", "entities", "sides"})
_COMPONENT_FIELDS = frozenset({"weight", "saturation"})
_TERMS_FIELDS = frozenset({"weight", "saturation", "concepts"})
_CACHE: dict[tuple[Any, ...], tuple[Topic, ...]] = {}


@dataclass(frozen=True)
class Group:
    """Entities that count for one side of a topic."""

    name: str
    weight: float
    saturation: float
    entities: frozenset[str]
    sides: frozenset[str]

    def has(self, mention: Mention) -> bool:
        """Does ``mention`` belong to this group?"""
        return mention.entity in self.entities or (mention.side is not None and mention.side in self.sides)


@dataclass(frozen=True)
class Signal:
    """Named evidence for rules: mentions of entity groups and/or hits of term concepts."""

    name: str
    groups: frozenset[str]
    concepts: frozenset[str]
    weak: bool = True
    """Whether weak mentions of the groups' entities count ("Russian" yes, "allies" for NATO no)."""


@dataclass(frozen=True)
class Rule:
    """Evidence that decides a short text: every signal found in the lead (title + first sentences)."""

    name: str
    signals: tuple[str, ...]
    weight: float
    unless: tuple[str, ...] = ()
    """Signals that stop the rule when found in the lead (NATO and China, not Russia)."""


@dataclass(frozen=True)
class Topic:
    """A validated topic definition."""

    name: str
    label: str
    threshold: float
    title_weight: float
    mention_weights: Mapping[str, float]
    require_all_groups: bool
    groups: tuple[Group, ...]
    cooccurrence_weight: float
    cooccurrence_saturation: float
    terms_weight: float
    terms_saturation: float
    terms: TermIndex = field(compare=False)
    source: str = ""
    lead_sentences: int = 3
    signals: tuple[Signal, ...] = ()
    rules: tuple[Rule, ...] = ()
    includes: tuple[str, ...] = ()
    """Narrower topics whose matches this one takes too (russia_west includes nato_russia)."""


@dataclass(frozen=True)
class TopicResult:
    """``score`` in [0, 1], ``matched`` when at least the threshold, ``why`` for humans (JSON)."""

    topic: str
    score: float
    matched: bool
    why: dict[str, Any]


# ---------------------------------------------------------------------------- scoring

def _saturate(value: float, saturation: float) -> float:
    return min(1.0, value / saturation)


def score(mentions: Iterable[Mention], hits: Iterable[TermHit], topic: Topic) -> TopicResult:
    """Score one article's mentions (from :func:`newsmon.tagging.entities.tag`) and term hits."""
    all_mentions = list(mentions)
    embedded = {id(m) for top in all_mentions for m in top.embedded}
    evidence: dict[str, float] = {g.name: 0.0 for g in topic.groups}
    listed: dict[str, list[dict[str, Any]]] = {g.name: [] for g in topic.groups}
    units: dict[tuple[bool, int], set[str]] = {}
    for mention in flatten(all_mentions):
        kind = "embedded" if id(mention) in embedded else mention.strength
        for group in topic.groups:
            if not group.has(mention):
                continue
            weight = topic.mention_weights[kind] * (topic.title_weight if mention.in_title else 1.0)
            evidence[group.name] += weight
            listed[group.name].append({"entity": mention.entity, "surface": mention.surface, "kind": kind,
                                       "sentence": mention.sentence, "in_title": mention.in_title,
                                       "weight": round(weight, 4)})
            if kind != "weak" or mention.surface[:1].isupper():  # "their alliance" joins no unit
                units.setdefault((mention.in_title, mention.sentence), set()).add(group.name)
    names = {g.name for g in topic.groups}
    together = sorted((key for key, found in units.items() if found == names), key=lambda k: (not k[0], k[1]))
    cooccurrence = sum(topic.title_weight if in_title else 1.0 for in_title, _ in together)
    concepts: dict[str, dict[str, Any]] = {}
    for hit in hits:
        entry = concepts.setdefault(hit.concept, {"weight": hit.weight, "hits": []})
        entry["hits"].append({"term": hit.term, "surface": hit.surface, "sentence": hit.sentence,
                              "in_title": hit.in_title})
    term_evidence = 0.0
    for entry in concepts.values():
        factor = topic.title_weight if any(h["in_title"] for h in entry["hits"]) else 1.0
        entry["evidence"] = round(entry["weight"] * factor, 4)
        term_evidence += entry["weight"] * factor
    components: dict[str, dict[str, float]] = {}
    for group in topic.groups:
        components[group.name] = _component(evidence[group.name], group.saturation, group.weight)
    components["cooccurrence"] = _component(cooccurrence, topic.cooccurrence_saturation,
                                            topic.cooccurrence_weight)
    components["terms"] = _component(term_evidence, topic.terms_saturation, topic.terms_weight)
    missing = [g.name for g in topic.groups if evidence[g.name] == 0]
    total = sum(c["contribution"] for c in components.values())
    if topic.require_all_groups and missing:
        total = 0.0
    weighted = round(min(1.0, max(0.0, total)), 4)
    fired = _rules(topic, listed, concepts)
    total = max([weighted, *(r["weight"] for r in fired)])
    matched = total >= topic.threshold
    why = {
        "topic": topic.name, "score": total, "threshold": topic.threshold, "matched": matched,
        "weighted_score": weighted, "rules": fired, "lead_sentences": topic.lead_sentences,
        "missing_groups": missing, "require_all_groups": topic.require_all_groups,
        "components": components, "entities": listed,
        "cooccurring_units": [{"in_title": t, "sentence": s} for t, s in together],
        "terms": concepts,
    }
    return TopicResult(topic.name, total, matched, why)


def _rules(topic: Topic, listed: dict[str, list[dict[str, Any]]],
           concepts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The rules whose every signal is found in the lead, best first, each with its evidence."""
    if not topic.rules:
        return []

    def in_lead(found: dict[str, Any]) -> bool:
        return bool(found["in_title"]) or found["sentence"] < topic.lead_sentences

    evidence: dict[str, list[str]] = {}
    for signal in topic.signals:
        surfaces = [m["surface"] for g in sorted(signal.groups) for m in listed.get(g, [])
                    if in_lead(m) and (signal.weak or m["kind"] != "weak")]
        surfaces += [h["surface"] for c in sorted(signal.concepts)
                     for h in concepts.get(c, {}).get("hits", []) if in_lead(h)]
        if surfaces:
            evidence[signal.name] = list(dict.fromkeys(surfaces))
    fired = [{"name": rule.name, "weight": rule.weight,
              "evidence": {name: evidence[name] for name in rule.signals}}
             for rule in topic.rules if all(name in evidence for name in rule.signals)
             and not any(name in evidence for name in rule.unless)]
    return sorted(fired, key=lambda r: -r["weight"])


def _component(evidence: float, saturation: float, weight: float) -> dict[str, float]:
    value = _saturate(evidence, saturation)
    return {"evidence": round(evidence, 4), "saturation": saturation, "value": round(value, 4),
            "weight": weight, "contribution": round(weight * value, 4)}


def classify(text: str, title: str | None = None, language: str | None = None,
             topics: Iterable[Topic] | None = None, gazetteer: Gazetteer | None = None,
             mentions: list[Mention] | None = None) -> dict[str, TopicResult]:
    """Score an article against every topic (default: ``config/topics``)."""
    gazetteer = gazetteer or default_gazetteer()
    if mentions is None:
        mentions = tag(text, title, language, gazetteer)
    chosen = list(topics) if topics is not None else load_topics(gazetteer=gazetteer)
    hits = topic_term_hits(chosen, text, title, language)
    results = {t.name: score(mentions, hits[t.name], t) for t in chosen}
    return apply_includes(results, chosen)


_JOINT: dict[tuple[int, ...], tuple[tuple[Topic, ...], TermIndex]] = {}


def topic_term_hits(topics: Iterable[Topic], text: str, title: str | None = None,
                    language: str | None = None) -> dict[str, list[TermHit]]:
    """The term hits of every topic, from one pass over the title and the text (one automaton for
    all the topics' concepts; each topic resolves its own overlaps)."""
    chosen = tuple(topics)
    key = tuple(id(t) for t in chosen)
    joint = _JOINT.get(key)  # the entry holds the topics, so their ids cannot be reused
    if joint is None:
        if len(_JOINT) > 32:
            _JOINT.clear()
        concepts = [c for t in chosen for c in t.terms.concepts]
        parts = tuple(n for n, t in enumerate(chosen) for _ in t.terms.concepts)
        joint = _JOINT[key] = (chosen, TermIndex(concepts, parts))
    found: dict[str, list[TermHit]] = {t.name: [] for t in chosen}
    for part, hit in term_hits_parts(joint[1], text, title, language):
        found[chosen[part].name].append(hit)
    return found


def apply_includes(results: dict[str, TopicResult], topics: Iterable[Topic]) -> dict[str, TopicResult]:
    """A topic that ``includes`` a narrower one scores at least as high: its ``why`` names it."""
    for topic in topics:
        own = results.get(topic.name)
        inner = [results[name] for name in topic.includes if name in results]
        best = max(inner, key=lambda r: r.score, default=None)
        if own is None or best is None or best.score <= own.score:
            continue
        total = best.score
        why = {**own.why, "score": total, "matched": total >= topic.threshold,
               "included": {"topic": best.topic, "score": best.score, "matched": best.matched}}
        results[topic.name] = TopicResult(topic.name, total, total >= topic.threshold, why)
    return results


# ---------------------------------------------------------------------------- loading

def _number(value: Any, where: str, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if value < low or value > high or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise ConfigError(f"{where}: must be in {bracket}{low}, {high}], got {value!r}")
    return float(value)


def _mapping(value: Any, where: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    unknown = set(value) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(map(str, unknown))}; "
                          f"allowed: {sorted(allowed)}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return [v.strip() for v in value]


def parse_topic(data: Any, source: str = "<topic>", gazetteer: Gazetteer | None = None) -> Topic:
    """Validate one parsed topic file; errors name ``source`` and the field."""
    data = _mapping(data, source, _TOPIC_FIELDS)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip().isidentifier():
        raise ConfigError(f"{source}: field 'name': an identifier such as 'nato_russia', got {name!r}")
    where = f"{source}: topic {name!r}"
    for required in ("threshold", "groups", "cooccurrence", "terms"):
        if required not in data:
            raise ConfigError(f"{where}: field '{required}' is required")
    threshold = _number(data["threshold"], f"{where}: field 'threshold'", 0, 1, low_open=True)
    title_weight = _number(data.get("title_weight", 1.0), f"{where}: field 'title_weight'", 1, 10)
    raw_weights = _mapping(data.get("mention_weights", {}), f"{where}: field 'mention_weights'",
                           frozenset(MENTION_KINDS))
    mention_weights = {kind: _number(raw_weights.get(kind, 1.0), f"{where}: field 'mention_weights.{kind}'",
                                     0, 10) for kind in MENTION_KINDS}
    require = data.get("require_all_groups", True)
    if not isinstance(require, bool):
        raise ConfigError(f"{where}: field 'require_all_groups': must be true or false, got {require!r}")
    raw_groups = data["groups"]
    if not isinstance(raw_groups, dict) or not raw_groups:
        raise ConfigError(f"{where}: field 'groups': expected a non-empty mapping of group name to entities")
    groups = []
    for group_name, raw in raw_groups.items():
        at = f"{where}: group {group_name!r}"
        raw = _mapping(raw, at, _GROUP_FIELDS)
        entities = _strings(raw.get("entities", []), f"{at}: field 'entities'")
        sides = _strings(raw.get("sides", []), f"{at}: field 'sides'")
        bad_sides = [s for s in sides if s not in SIDES]
        if bad_sides:
            raise ConfigError(f"{at}: field 'sides': unknown side(s) {bad_sides}; allowed: {list(SIDES)}")
        if not entities and not sides:
            raise ConfigError(f"{at}: needs 'entities' and/or 'sides'")
        if gazetteer is not None:
            unknown = [e for e in entities if e not in gazetteer.by_name]
            if unknown:
                raise ConfigError(f"{at}: field 'entities': not in the gazetteer: {unknown}")
        weight = _number(raw.get("weight"), f"{at}: field 'weight'", 0, 1)
        saturation = _number(raw.get("saturation"), f"{at}: field 'saturation'", 0, 1000, low_open=True)
        groups.append(Group(str(group_name), weight, saturation, frozenset(entities), frozenset(sides)))
    cooc = _mapping(data["cooccurrence"], f"{where}: field 'cooccurrence'", _COMPONENT_FIELDS)
    terms = _mapping(data["terms"], f"{where}: field 'terms'", _TERMS_FIELDS)
    concepts = []
    raw_concepts = terms.get("concepts")
    if not isinstance(raw_concepts, dict) or not raw_concepts:
        raise ConfigError(f"{where}: field 'terms.concepts': expected a non-empty mapping of concepts")
    for concept_name, raw in raw_concepts.items():
        at = f"{where}: concept {concept_name!r}"
        raw = _mapping(raw, at, frozenset({"weight", "case_sensitive", "key_term", *LANGUAGES}))
        case_sensitive = raw.get("case_sensitive", False)
        key_term = raw.get("key_term", True)
        for flag, value in (("case_sensitive", case_sensitive), ("key_term", key_term)):
            if not isinstance(value, bool):
                raise ConfigError(f"{at}: field '{flag}': must be true or false, got {value!r}")
        missing = [lang for lang in REQUIRED_LANGUAGES if lang not in raw]
        if missing:
            raise ConfigError(f"{at}: missing language(s) {missing}; every concept needs "
                              f"{list(REQUIRED_LANGUAGES)} (config/languages.yml)")
        per_language = {lang: tuple(_strings(raw[lang], f"{at}: field '{lang}'")) for lang in LANGUAGES
                        if lang in raw}
        starred = [t for terms in per_language.values() for t in terms if "*" in t.rstrip("*") or t == "*"]
        if starred:
            raise ConfigError(f"{at}: '*' may only end a term (prefix match), got {starred}")
        empty = [lang for lang, listed in per_language.items() if not listed]
        if empty:
            raise ConfigError(f"{at}: empty term list for {empty}")
        concepts.append(Concept(str(concept_name), _number(raw.get("weight"), f"{at}: field 'weight'", 0, 10),
                                per_language, case_sensitive, key_term))
    cooc_weight = _number(cooc.get("weight"), f"{where}: field 'cooccurrence.weight'", 0, 1)
    terms_weight = _number(terms.get("weight"), f"{where}: field 'terms.weight'", 0, 1)
    total = sum(g.weight for g in groups) + cooc_weight + terms_weight
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(f"{where}: component weights (groups, cooccurrence, terms) must add up to 1, "
                          f"got {round(total, 6)}")
    lead = data.get("lead_sentences", 3)
    if isinstance(lead, bool) or not isinstance(lead, int) or not 1 <= lead <= 50:
        raise ConfigError(f"{where}: field 'lead_sentences': an integer from 1 to 50, got {lead!r}")
    signals, rules = _parse_rules(data, where, {g.name for g in groups}, {c.name for c in concepts})
    includes = tuple(_strings(data.get("includes", []), f"{where}: field 'includes'"))
    return Topic(
        lead_sentences=lead, signals=signals, rules=rules, includes=includes,
        name=name.strip(), label=str(data.get("label", name)), threshold=threshold, title_weight=title_weight,
        mention_weights=mention_weights, require_all_groups=require, groups=tuple(groups),
        cooccurrence_weight=cooc_weight,
        cooccurrence_saturation=_number(cooc.get("saturation"), f"{where}: field 'cooccurrence.saturation'",
                                        0, 1000, low_open=True),
        terms_weight=terms_weight,
        terms_saturation=_number(terms.get("saturation"), f"{where}: field 'terms.saturation'", 0, 1000,
                                 low_open=True),
        terms=TermIndex(concepts), source=source)


def _parse_rules(data: dict[str, Any], where: str, groups: set[str],
                 concepts: set[str]) -> tuple[tuple[Signal, ...], tuple[Rule, ...]]:
    """``signals`` (named groups and concepts) and ``rules`` (signals that must all be in the lead)."""
    raw_signals = data.get("signals", {})
    raw_rules = data.get("rules", [])
    if not isinstance(raw_signals, dict):
        raise ConfigError(f"{where}: field 'signals': expected a mapping of signal name to groups/concepts")
    if not isinstance(raw_rules, list):
        raise ConfigError(f"{where}: field 'rules': expected a list of {{name, all, weight}}")
    if raw_rules and not raw_signals:
        raise ConfigError(f"{where}: field 'signals': rules need signals")
    signals = []
    for signal_name, raw in raw_signals.items():
        at = f"{where}: signal {signal_name!r}"
        raw = _mapping(raw, at, _SIGNAL_FIELDS)
        used_groups = _strings(raw.get("groups", []), f"{at}: field 'groups'")
        used_concepts = _strings(raw.get("concepts", []), f"{at}: field 'concepts'")
        if not used_groups and not used_concepts:
            raise ConfigError(f"{at}: needs 'groups' and/or 'concepts'")
        unknown = sorted(set(used_groups) - groups)
        if unknown:
            raise ConfigError(f"{at}: field 'groups': unknown group(s) {unknown}; defined: {sorted(groups)}")
        unknown = sorted(set(used_concepts) - concepts)
        if unknown:
            raise ConfigError(f"{at}: field 'concepts': unknown concept(s) {unknown}")
        weak = raw.get("weak", True)
        if not isinstance(weak, bool):
            raise ConfigError(f"{at}: field 'weak': must be true or false, got {weak!r}")
        signals.append(Signal(str(signal_name), frozenset(used_groups), frozenset(used_concepts), weak))
    names = {s.name for s in signals}
    rules = []
    for number, raw in enumerate(raw_rules):
        at = f"{where}: rules[{number}]"
        raw = _mapping(raw, at, _RULE_FIELDS)
        rule_name = raw.get("name")
        if not isinstance(rule_name, str) or not rule_name.strip():
            raise ConfigError(f"{at}: field 'name': a non-empty string, got {rule_name!r}")
        at = f"{where}: rule {rule_name!r}"
        needed = _strings(raw.get("all", []), f"{at}: field 'all'")
        if not needed:
            raise ConfigError(f"{at}: field 'all': name at least one signal")
        unknown = sorted(set(needed) - names)
        if unknown:
            raise ConfigError(f"{at}: field 'all': unknown signal(s) {unknown}; defined: {sorted(names)}")
        unless = _strings(raw.get("none", []), f"{at}: field 'none'")
        unknown = sorted(set(unless) - names)
        if unknown:
            raise ConfigError(f"{at}: field 'none': unknown signal(s) {unknown}; defined: {sorted(names)}")
        weight = _number(raw.get("weight"), f"{at}: field 'weight'", 0, 1, low_open=True)
        rules.append(Rule(rule_name.strip(), tuple(needed), weight, tuple(unless)))
    if len({r.name for r in rules}) != len(rules):
        raise ConfigError(f"{where}: field 'rules': rule names must be unique")
    return tuple(signals), tuple(rules)


def load_topics(path: str | Path = DEFAULT_TOPICS_DIR, gazetteer: Gazetteer | None = None) -> list[Topic]:
    """Load a topic file or every ``*.yml`` of a directory, validated; entity names are checked
    against ``gazetteer`` when given. Topic names must be unique."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.yml"))
        if not files:
            raise ConfigError(f"{path}: no *.yml topic files in this directory")
    elif path.exists():
        files = [path]
    else:
        raise ConfigError(f"{path}: topic file or directory not found")
    stamp = (tuple((str(f.resolve()), f.stat().st_mtime_ns, f.stat().st_size) for f in files), id(gazetteer))
    if stamp in _CACHE:
        return list(_CACHE[stamp])
    topics: list[Topic] = []
    for file in files:
        topic = parse_topic(read_yaml(file, "topic file not found"), str(file), gazetteer)
        if any(t.name == topic.name for t in topics):
            raise ConfigError(f"{file}: topic {topic.name!r}: field 'name': duplicate topic name")
        topics.append(topic)
    names = {t.name for t in topics}
    for topic in topics:
        unknown = [n for n in topic.includes if n not in names or n == topic.name]
        if unknown:
            raise ConfigError(f"{topic.source}: topic {topic.name!r}: field 'includes': unknown topic(s) "
                              f"{unknown}; defined: {sorted(names - {topic.name})}")
    _CACHE[stamp] = tuple(topics)
    return topics
