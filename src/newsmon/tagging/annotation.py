"""Everything tagging says about one article — entities with their mentions, key phrases and
topic terms, topic scores with why — in one pass, as plain data. Used by the pipeline (stored in
PostgreSQL) and by ``newsmon analyze`` (printed as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from newsmon.tagging.entities import default_gazetteer, entities, flatten, tag
from newsmon.tagging.gazetteer import Gazetteer
from newsmon.tagging.keywords import key_phrases
from newsmon.tagging.topics import Topic, TopicResult, apply_includes, load_topics, score, topic_term_hits

KEY_PHRASES = 10


@dataclass
class Annotation:
    entities: list[dict[str, Any]] = field(default_factory=list)
    keywords: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, keyword, score)
    topics: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {score, matched, why}


def annotate(text: str, title: str | None, language: str | None, *, gazetteer: Gazetteer | None = None,
             topics: list[Topic] | None = None, phrases: int = KEY_PHRASES, ner: bool = False) -> Annotation:
    """Tag ``text`` (and ``title``): entities, key phrases, topic terms and topic scores.

    ``ner``: statistical NER (where a model is installed) for articles that score on some topic
    only: it costs 30 times the gazetteer, so it runs where a missing name matters.
    """
    gazetteer = gazetteer or default_gazetteer()
    topics = load_topics(gazetteer=gazetteer) if topics is None else topics
    lang = None if language in (None, "und") else language
    mentions = tag(text, title, lang, gazetteer)
    result = Annotation()
    terms: dict[str, float] = {}
    outcomes: dict[str, TopicResult] = {}
    all_hits = topic_term_hits(topics, text, title, lang)
    for topic in topics:
        hits = all_hits[topic.name]
        key_terms = {c.name for c in topic.terms.concepts if c.key_term and c.weight > 0}
        for hit in hits:  # weight-0 concepts are evidence for rules; broad vocabulary is no key term
            if hit.concept in key_terms:
                terms[hit.concept] = terms.get(hit.concept, 0.0) + hit.weight
        outcomes[topic.name] = score(mentions, hits, topic)
    for name, outcome in apply_includes(outcomes, topics).items():
        result.topics[name] = {"score": round(outcome.score, 4), "matched": outcome.matched,
                               "why": outcome.why}
    if ner and any(t["score"] > 0 for t in result.topics.values()):
        mentions = tag(text, title, lang, gazetteer, ner=True)  # NER names have no side: scores stand
    counted = [m for m in flatten(mentions) if m.counted]
    for entity in entities(mentions=mentions):
        occurrences = [{"surface": m.surface, "start": m.start, "end": m.end, "sentence": m.sentence,
                        "in_title": m.in_title, "strength": m.strength,
                        **({"source": m.source} if m.source == "metonymy" else {})}
                       for m in counted if m.entity == entity.entity]
        result.entities.append({"name": entity.entity, "type": entity.type, "wikidata": entity.wikidata,
                                "side": entity.side, "mentions": entity.mentions,
                                "in_title": entity.in_title, "first_sentence": entity.first_sentence,
                                "source": entity.source, "occurrences": occurrences})
    result.keywords = [("term", concept, round(weight, 4)) for concept, weight in sorted(terms.items())]
    if phrases and text:
        result.keywords += [("phrase", phrase, round(value, 6))
                            for phrase, value in key_phrases(text, lang, top=phrases)]
    return result
