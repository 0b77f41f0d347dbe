"""What a story says about its happening, in keys that do not depend on the language.

Keys (each with a weight, the salience in this story):
- ``e:<QID>`` (or ``e:<canonical name>`` without a QID): an entity tagging found;
- ``c:<concept>``: a topic term's concept (the topic files map every language's words to one);
- ``n:<number>``: a number of 10 or more, or a decimal, written with digits (``19``, ``3.5``,
  ``1200`` for "1,200" / "1 200" / "1.200");
- ``d:<MM-DD>``: a day and month named in the text ("10 September", "10 septembre",
  "10 września", "10. September");
- ``w:<stem>``: a proper name the gazetteer does not know (a capitalized word inside a
  sentence, folded, its first five letters: "Przewodów" and "Przewodowie" give ``w:przew``).

Built from tagging's output (:func:`newsmon.tagging.annotation.annotate` or the stored
``article_entities``/``article_keywords`` rows, same shape) plus the text itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TYPE_WEIGHT = {"PER": 1.0, "EVENT": 1.0, "ORG": 0.8, "LOC": 0.8, "MISC": 0.7}
CONCEPT_WEIGHT = 0.6
NUMBER_WEIGHT = 0.8
DATE_WEIGHT = 0.6
NAME_WEIGHT = 0.5
KIND_OF = {"e": "entity", "c": "concept", "n": "number", "d": "date", "w": "name"}

_MONTHS = {
    1: ["january", "jan", "janvier", "janv", "januar", "jänner", "stycznia", "styczen", "styczeń"],
    2: ["february", "feb", "fevrier", "février", "fevr", "févr", "februar", "lutego", "luty"],
    3: ["march", "mars", "märz", "marz", "marca", "marzec"],
    4: ["april", "apr", "avril", "kwietnia", "kwiecien", "kwiecień"],
    5: ["may", "mai", "maja", "maj"],
    6: ["june", "juin", "juni", "czerwca", "czerwiec"],
    7: ["july", "juillet", "juli", "lipca", "lipiec"],
    8: ["august", "aug", "aout", "août", "sierpnia", "sierpien", "sierpień"],
    9: ["september", "sept", "sep", "septembre", "wrzesnia", "września", "wrzesien", "wrzesień"],
    10: ["october", "oct", "octobre", "oktober", "pazdziernika", "października", "październik"],
    11: ["november", "nov", "novembre", "listopada", "listopad"],
    12: ["december", "dec", "decembre", "décembre", "dezember", "grudnia", "grudzien", "grudzień"],
}
_MONTH_OF = {name: number for number, names in _MONTHS.items() for name in names}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTH_OF), key=len, reverse=True))
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:er|\.)?\s+({_MONTH_RE})\.?\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.,\u00a0\u202f ]?\d)",
                        re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:(?:[,.]|\s|\u00a0|\u202f)\d{3})+|\d+)(?:[.,](\d+))?(?![\w])")
_WORD = re.compile(r"[^\W\d_][^\W\d_'’\-]*(?:-[^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?:»”\"]\s+|\n+")
# Capitalized words that are not names (English capitalizes these; so do headlines).
_NOT_NAMES = frozenset([
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today", "the",
    "this", "that", "these", "those", "there", "they", "their", "then", "when", "where", "what",
    "which", "while", "with", "from", "after", "before", "during", "over", "under", "about", "into",
    "president", "prime", "minister", "ministry", "minister's", "secretary", "general", "foreign",
    "defence", "defense", "chancellor", "mr", "mrs", "ms", "dr", "m", "mme", "herr", "pan", "pani",
    "according", "however", "meanwhile", "also", "but", "and", "for", "not", "its", "his", "her",
    "our", "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
])


def fold(text: str) -> str:
    """Lower case, accents and Polish ł removed: the form in which name stems are compared."""
    text = text.replace("ł", "l").replace("Ł", "L")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


@dataclass
class StoryEvidence:
    """One story's language-independent evidence."""

    story_id: int
    seen_at: datetime
    language: str | None
    keys: dict[str, float]  # key -> salience weight (0-1)
    labels: dict[str, str] = field(default_factory=dict)  # key -> what a person reads (name, surface)
    topic: str | None = None  # best matched topic, if any
    topic_score: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"keys": {k: round(v, 4) for k, v in self.keys.items()}, "labels": self.labels}


def entity_key(name: str, wikidata: str | None) -> str:
    """``e:<QID>`` where the entity has one, else ``e:<canonical name>``."""
    return f"e:{wikidata}" if wikidata else f"e:{name}"


def _entity_salience(entity: Mapping[str, Any]) -> float:
    if entity.get("in_title"):
        return 1.0
    first = entity.get("first_sentence")
    if first is not None and first <= 1:
        return 0.9
    return min(0.9, 0.6 + 0.1 * (int(entity.get("mentions") or 1) - 1))


def _number(whole: str, decimals: str | None) -> str | None:
    digits = re.sub(r"\D", "", whole)
    if not digits:
        return None
    value = int(digits)
    if decimals and len(whole) <= 3 and digits == whole:
        if set(decimals) == {"0"}:
            return str(value) if value >= 10 else None
        return f"{value}.{decimals}"
    if value < 10 or (1900 <= value <= 2100 and digits == whole and len(whole) == 4):
        return None  # small counts are written in words as often as in digits; years date, not tell
    return str(value)


def dates_and_numbers(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """({``d:MM-DD``: surface}, {``n:<number>``: surface}) found in ``text``."""
    dates: dict[str, str] = {}
    taken: list[tuple[int, int]] = []
    for match in _DAY_MONTH.finditer(text):
        day, month = int(match.group(1)), _MONTH_OF[match.group(2).lower()]
        if 1 <= day <= 31:
            dates.setdefault(f"d:{month:02d}-{day:02d}", match.group(0))
            taken.append(match.span(1))
    for match in _MONTH_DAY.finditer(text):  # "September 10": English, the month capitalized
        day, month = int(match.group(2)), _MONTH_OF[match.group(1).lower()]
        if 1 <= day <= 31 and match.group(1)[0].isupper():
            dates.setdefault(f"d:{month:02d}-{day:02d}", match.group(0))
            taken.append(match.span(2))
    numbers: dict[str, str] = {}
    for match in _NUMBER.finditer(text):
        if any(s <= match.start() < e for s, e in taken):
            continue
        value = _number(match.group(1), match.group(2))
        if value is not None:
            numbers.setdefault(f"n:{value}", match.group(0))
    return dates, numbers


def _sentence_initial(text: str) -> set[int]:
    starts = {0}
    starts.update(m.end() for m in _SENTENCE_END.finditer(text))
    return starts


def _title_cased(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if len(w) > 3]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) > 0.6


def proper_names(text: str, covered: Sequence[tuple[int, int]] = (), language: str | None = None
                 ) -> dict[str, str]:
    """{``w:<stem>``: surface} for capitalized words inside sentences that no entity covers.
    German capitalizes every noun: none are taken from German text."""
    if (language or "").startswith("de") or not text:
        return {}
    initial = _sentence_initial(text)
    found: dict[str, str] = {}
    for match in _WORD.finditer(text):
        word = match.group(0)
        if len(word) < 4 or not word[0].isupper() or match.start() in initial:
            continue
        # the word just after an opening quote or bracket starts a sentence too
        before = text[max(0, match.start() - 2):match.start()].strip()
        if before and before[-1] in "«“\"'(„—–-":
            continue
        if any(s <= match.start() < e for s, e in covered):
            continue
        folded = fold(word)
        if folded in _NOT_NAMES:
            continue
        found.setdefault(f"w:{folded[:5]}", word)
    return found


def story_evidence(story_id: int, seen_at: datetime, language: str | None, title: str | None, text: str,
                   entities: Iterable[Mapping[str, Any]], terms: Iterable[tuple[str, float]],
                   topics: Mapping[str, tuple[float, bool]] | None = None) -> StoryEvidence:
    """The evidence of one story from its representative article's tags and text.

    ``entities``: dicts with name, wikidata, type, mentions, in_title, first_sentence and
    occurrences (as :func:`annotate` returns them and ``article_entities`` stores them);
    ``terms``: (concept, weight) of the topic terms found; ``topics``: name -> (score, matched).
    """
    keys: dict[str, float] = {}
    labels: dict[str, str] = {}
    covered_text: list[tuple[int, int]] = []
    covered_title: list[tuple[int, int]] = []
    for entity in entities:
        key = entity_key(entity["name"], entity.get("wikidata"))
        weight = TYPE_WEIGHT.get(entity.get("type") or "MISC", 0.7) * _entity_salience(entity)
        keys[key] = max(keys.get(key, 0.0), weight)
        labels[key] = entity["name"]
        for occ in entity.get("occurrences") or ():
            (covered_title if occ.get("in_title") else covered_text).append((occ["start"], occ["end"]))
    for concept, weight in terms:
        key = f"c:{concept}"
        keys[key] = max(keys.get(key, 0.0), CONCEPT_WEIGHT * min(1.0, max(0.3, float(weight))))
        labels[key] = concept
    full = f"{title or ''}\n{text or ''}"
    dates, numbers = dates_and_numbers(full)
    for table, weight in ((dates, DATE_WEIGHT), (numbers, NUMBER_WEIGHT)):
        for key, surface in table.items():
            keys.setdefault(key, weight)
            labels.setdefault(key, surface)
    names = proper_names(text or "", covered_text, language)
    if title and not _title_cased(title):
        names.update(proper_names(title, covered_title, language))
    for key, surface in names.items():
        if key not in keys:
            keys[key] = NAME_WEIGHT
            labels[key] = surface
    best_topic, best_score = None, 0.0
    for name, (score, matched) in (topics or {}).items():
        if matched and score > best_score:
            best_topic, best_score = name, float(score)
    return StoryEvidence(story_id=story_id, seen_at=seen_at, language=language, keys=keys, labels=labels,
                         topic=best_topic, topic_score=best_score)
