"""Keywords: weighted topic terms found in an article, and YAKE key phrases.

Topic terms come from the topic configuration (``config/topics/*.yml``): per concept a weight
and per language a list of terms, matched like gazetteer aliases (folded text, word
boundaries, see :mod:`newsmon.tagging.gazetteer`). A term ending in ``*`` also matches longer words
that start with it ("sanktion*" matches "Sanktionen" and "Sanktionspaket", "санкци*" the case
forms of "санкции").

Key phrases are statistical (YAKE): stop words per language where YAKE ships them (fr, en, de, es,
ru, uk, pl and more), deterministic for a given text. YAKE's candidates are then kept only when an
analyst would read them (:func:`readable`): no token that is a number or a date, no stop word,
verb or time word (``phrases.edge_words`` of ``config/entity_rules.yml``) at either end, no verb
inside (the language's verb list there, plus the spaCy model's lexicon where one is installed,
never downloaded), and no overlapping duplicate: a phrase sharing a word (its first five letters,
stop words aside) with a better-ranked one is dropped.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import ahocorasick

from newsmon.core.text import normalize_language_code
from newsmon.tagging.entities import lexicon, sentence_starts
from newsmon.tagging.gazetteer import fold, fold_with_offsets, is_word_char
from newsmon.tagging.rules import rules_for

KEY_PHRASE_MAX_WORDS = 3
CANDIDATES_PER_PHRASE = 4
"""YAKE is asked for this many candidates per phrase wanted: the filter drops many."""
STEM_LETTERS = 5
"""Words agreeing on this many first letters are the same word ("sanction", "sanctions")."""


@dataclass(frozen=True, slots=True)
class TermHit:
    """One topic term found in the title or text of an article."""

    concept: str
    """The concept the term belongs to ("arms_control", "airspace_violation"...)."""
    term: str
    """The term as configured."""
    surface: str
    """Exactly ``text[start:end]`` (or the title's)."""
    start: int
    end: int
    sentence: int
    in_title: bool
    weight: float
    language: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return asdict(self)


@dataclass(frozen=True)
class Concept:
    """A weighted group of terms, per language."""

    name: str
    weight: float
    terms: Mapping[str, tuple[str, ...]]
    case_sensitive: bool = False
    """Terms written with a capital match only capitalized words ("the Alliance", not "an alliance")."""
    key_term: bool = True
    """Stored as the article's key term (and used as event evidence); false for broad vocabulary
    that scores a topic but names no particular happening ("weapons", "sanctions", "war")."""


class TermIndex:
    """The terms of a set of concepts compiled into one automaton (built once, picklable)."""

    def __init__(self, concepts: list[Concept] | tuple[Concept, ...],
                 parts: tuple[int, ...] | None = None) -> None:
        self.concepts: tuple[Concept, ...] = tuple(concepts)
        self.parts: tuple[int, ...] = parts if parts is not None else (0,) * len(self.concepts)
        """Concept number -> part: parts are matched independently (one index for several topics)."""
        self._automaton: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"concepts": self.concepts, "parts": self.parts}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["concepts"], state.get("parts"))  # type: ignore[misc]

    def _build(self) -> Any:
        if self._automaton is None:
            entries: dict[str, list[tuple[int, str, str, bool]]] = {}
            for number, concept in enumerate(self.concepts):
                for language, terms in concept.terms.items():
                    for term in terms:
                        prefix = term.endswith("*")
                        key = fold(term.rstrip("*"))
                        entries.setdefault(key, []).append((number, language, term, prefix))
            automaton = ahocorasick.Automaton()
            for key, payload in entries.items():
                automaton.add_word(key, (len(key), tuple(payload)))
            automaton.make_automaton()
            self._automaton = automaton
        return self._automaton

    def find(self, text: str, language: str | None = None, *, in_title: bool = False) -> list[TermHit]:
        """Term occurrences in ``text`` (terms of ``language`` only, all when None), longest first
        and never overlapping, in text order."""
        return [hit for _, hit in self.find_parts(text, language, in_title=in_title)]

    def find_parts(self, text: str, language: str | None = None, *,
                   in_title: bool = False) -> list[tuple[int, TermHit]]:
        """Like :meth:`find`, with the part of each hit; overlaps are resolved within a part."""
        if not text:
            return []
        automaton = self._build()
        folded, offsets = fold_with_offsets(text)
        size = len(folded)
        found: list[tuple[int, int, list[tuple[int, str, str]]]] = []
        for last, (length, payload) in automaton.iter(folded):
            start, end = last - length + 1, last + 1
            if start > 0 and is_word_char(folded[start]) and is_word_char(folded[start - 1]):
                continue
            whole_word = end >= size or not (is_word_char(folded[last]) and is_word_char(folded[end]))
            matching: dict[int, tuple[int, str, str]] = {}  # one term per concept
            for number, lang, term, prefix in payload:
                if (language is None or lang == language) and (whole_word or prefix):
                    matching.setdefault(number, (number, lang, term))
            if matching:
                found.append((start, end, list(matching.values())))
        taken = {part: bytearray(size) for part in set(self.parts)}
        starts = [0] if in_title else sentence_starts(text)
        hits: list[tuple[int, TermHit]] = []
        for start, end, matching in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
            o_start, o_end = offsets.start(start), offsets.end(end, text)
            capital = text[o_start:o_start + 1].isupper()
            matching = [(number, lang, term) for number, lang, term in matching
                        if (capital or not (self.concepts[number].case_sensitive and term[:1].isupper()))
                        and not any(taken[self.parts[number]][start:end])]
            if not matching:
                continue
            for part in {self.parts[number] for number, _, _ in matching}:
                taken[part][start:end] = b"\x01" * (end - start)
            sentence = 0 if in_title else bisect_right(starts, o_start) - 1
            for number, lang, term in matching:  # a term of several concepts counts for each
                t_end = o_end
                if term.endswith("*"):  # report the whole word the prefix matched
                    while t_end < len(text) and is_word_char(text[t_end]):
                        t_end += 1
                concept = self.concepts[number]
                hit = TermHit(concept.name, term, text[o_start:t_end], o_start, t_end, sentence, in_title,
                              concept.weight, lang)
                hits.append((self.parts[number], hit))
        hits.sort(key=lambda h: h[1].start)
        return hits


def term_hits(index: TermIndex, text: str, title: str | None = None,
              language: str | None = None) -> list[TermHit]:
    """Term hits in the title, then in the text."""
    return [hit for _, hit in term_hits_parts(index, text, title, language)]


def term_hits_parts(index: TermIndex, text: str, title: str | None = None,
                    language: str | None = None) -> list[tuple[int, TermHit]]:
    """(part, hit) pairs in the title, then in the text (see :meth:`TermIndex.find_parts`)."""
    language = normalize_language_code(language)
    return (index.find_parts(title or "", language, in_title=True)
            + index.find_parts(text or "", language))


# ---------------------------------------------------------------------------- key phrases

@functools.cache
def _yake_language(language: str) -> str:
    """``language`` when YAKE ships its stop words, else YAKE's generic list."""
    import importlib.resources

    try:
        listed = importlib.resources.files("yake.core").joinpath(f"StopwordsList/stopwords_{language}.txt")
        return language if language and listed.is_file() else "noLang"
    except (ModuleNotFoundError, FileNotFoundError):
        return "noLang"


@functools.cache
def _extractor(language: str | None, top: int) -> Any:
    import yake

    return yake.KeywordExtractor(lan=_yake_language(language), n=KEY_PHRASE_MAX_WORDS, dedup_lim=0.9, top=top)


@functools.cache
def _stopwords(language: str) -> frozenset[str]:
    return frozenset(fold(w) for w in _extractor(language, 1).stopword_set if w)


_NUMBER_RE = re.compile(r"^[\d.,:/\-–]+$")
_PHRASE_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")


def readable(phrase: str, language: str) -> bool:
    """Would an analyst read ``phrase`` as a key phrase (see the module docstring)?"""
    words = phrase.split()
    if not words or any(_NUMBER_RE.match(w) for w in words):
        return False  # "date 2022-01", "100 000"
    folded = [fold(w).strip(".,;:!?\"'«»()[]") for w in words]
    if not all(folded) or not any(c.isalpha() for c in "".join(folded)):
        return False
    stop = _stopwords(language)
    rules = rules_for(language) if language else []
    words_lexicon = lexicon(language, accents=True) if language else None
    for position, word in enumerate(folded):
        edge = position in (0, len(folded) - 1)
        if word in stop:
            if edge:
                return False
            continue  # "discussions à Bruxelles"
        if edge and any(word in r.edge_words for r in rules):
            return False  # "mercredi des discussions"
        lower = words[position].lower().strip(".,;:!?\"'«»()[]")
        if any(word in r.verbs for r in rules) or (words_lexicon is not None
                                                    and words_lexicon.is_verb(lower)):
            return False  # "montré aucun signe", "entamé mercredi"
    return True


def _overlaps(phrase: str, kept: list[str], language: str) -> bool:
    """Shares a word (up to inflection, stop words aside) with a better-ranked phrase."""
    stop = _stopwords(language)
    stems = {w[:STEM_LETTERS] for w in _PHRASE_WORD_RE.findall(fold(phrase)) if w not in stop}
    return any(stems & {w[:STEM_LETTERS] for w in _PHRASE_WORD_RE.findall(fold(other)) if w not in stop}
               for other in kept)


_SPACE_RE = re.compile(r"\s+")
_ELISION_RE = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)


KEY_PHRASE_CHARS = 2000
"""YAKE reads the first 2,000 characters: a news lead carries the key phrases, and YAKE's
cost (about 13 ms per 3 KB) is the largest of tagging."""


def key_phrases(text: str, language: str | None, top: int = 10) -> list[tuple[str, float]]:
    """The ``top`` key phrases of ``text`` (its first ``KEY_PHRASE_CHARS``) by YAKE, best first,
    as (phrase, score) pairs.

    Lower YAKE scores are better; ties are broken by phrase so the order is deterministic.
    Stop words of the language where YAKE ships them, else YAKE's generic list; only
    :func:`readable` phrases that overlap no better-ranked one are kept.
    French elided articles are dropped first ("l'espace aérien" -> "espace aérien").
    """
    text, language = _prepare(text, language)
    if not text or top <= 0:
        return []
    # one extractor per (language, top); YAKE keeps a similarity cache per extractor, which only
    # memoizes string comparisons, so reuse does not change results
    phrases = _extractor(language, top * CANDIDATES_PER_PHRASE).extract_keywords(text)
    ranked = sorted(((phrase, float(score)) for phrase, score in phrases), key=lambda p: (p[1], p[0]))
    kept: list[tuple[str, float]] = []
    for phrase, value in ranked:
        if readable(phrase, language) and not _overlaps(phrase, [p for p, _ in kept], language):
            kept.append((phrase, value))
            if len(kept) == top:
                break
    return kept


def _prepare(text: str | None, language: str | None) -> tuple[str, str | None]:
    """What YAKE reads: the first ``KEY_PHRASE_CHARS`` of the text, white space tidied, French elided
    articles dropped ("l'espace aérien" and "espace aérien" are the same phrase); the base language."""
    text = _SPACE_RE.sub(" ", (text or "")[:KEY_PHRASE_CHARS]).strip()
    language = normalize_language_code(language)
    if language == "fr":
        text = _ELISION_RE.sub("", text)
    return text, language


def raw_key_phrases(text: str, language: str | None, top: int = 10) -> list[tuple[str, float]]:
    """YAKE's own top phrases, unfiltered (what :func:`key_phrases` returned before the filter;
    for ``benchmarks.phrases_before_after``)."""
    text, language = _prepare(text, language)
    if not text or top <= 0:
        return []
    phrases = _extractor(language, top).extract_keywords(text)
    return sorted(((phrase, float(score)) for phrase, score in phrases), key=lambda p: (p[1], p[0]))[:top]
