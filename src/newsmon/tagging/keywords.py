"""Keywords: weighted topic terms found in an article, and YAKE key phrases.

Topic terms come from the topic configuration (``config/topics/*.yml``): per concept a weight
and per language a list of terms, matched like gazetteer aliases (folded text, word
boundaries, see :mod:`newsmon.tagging.gazetteer`). A term ending in ``*`` also matches longer words
that start with it ("sanktion*" matches "Sanktionen" and "Sanktionspaket", "санкци*" the case
forms of "санкции").

Key phrases are statistical (YAKE): no dictionary, stop words per language where YAKE ships
them (fr, en, de, es, ru, uk and more), deterministic for a given text.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import ahocorasick

from newsmon.tagging.entities import sentence_starts
from newsmon.tagging.gazetteer import fold, fold_with_offsets, is_word_char

KEY_PHRASE_MAX_WORDS = 3
YAKE_LANGUAGES = ("fr", "en", "de", "es", "ru", "uk")
"""Languages whose stop words ``key_phrases`` uses; others fall back to YAKE's generic list."""


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


def _base_language(language: str | None) -> str:
    """'fr-FR', 'FR', 'fr_CA' -> 'fr'; None -> ''."""
    return re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]


def term_hits(index: TermIndex, text: str, title: str | None = None,
              language: str | None = None) -> list[TermHit]:
    """Term hits in the title, then in the text."""
    return [hit for _, hit in term_hits_parts(index, text, title, language)]


def term_hits_parts(index: TermIndex, text: str, title: str | None = None,
                    language: str | None = None) -> list[tuple[int, TermHit]]:
    """(part, hit) pairs in the title, then in the text (see :meth:`TermIndex.find_parts`)."""
    language = _base_language(language) or None
    return (index.find_parts(title or "", language, in_title=True)
            + index.find_parts(text or "", language))


# ---------------------------------------------------------------------------- key phrases

@functools.cache
def _extractor(language: str, top: int) -> Any:
    import yake

    lan = language if language in YAKE_LANGUAGES else "noLang"
    return yake.KeywordExtractor(lan=lan, n=KEY_PHRASE_MAX_WORDS, dedup_lim=0.9, top=top)


_SPACE_RE = re.compile(r"\s+")
_ELISION_RE = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’](?=\w)", re.IGNORECASE)


KEY_PHRASE_CHARS = 2000
"""YAKE reads the first 2,000 characters: a news lead carries the key phrases, and YAKE's
cost (about 13 ms per 3 KB) is the largest of tagging."""


def key_phrases(text: str, language: str | None, top: int = 10) -> list[tuple[str, float]]:
    """The ``top`` key phrases of ``text`` (its first ``KEY_PHRASE_CHARS``) by YAKE, best first,
    as (phrase, score) pairs.

    Lower YAKE scores are better; ties are broken by phrase so the order is deterministic.
    Language-aware stop words for fr, en, de, es, ru, uk; other languages use YAKE's generic list.
    French elided articles are dropped first ("l'espace aérien" -> "espace aérien").
    """
    text = _SPACE_RE.sub(" ", (text or "")[:KEY_PHRASE_CHARS]).strip()
    if not text or top <= 0:
        return []
    language = _base_language(language)
    if language == "fr":  # "l'espace aérien" and "espace aérien" are the same phrase
        text = _ELISION_RE.sub("", text)
    # one extractor per (language, top); YAKE keeps a similarity cache per extractor, which only
    # memoizes string comparisons, so reuse does not change results
    phrases = _extractor(language, top).extract_keywords(text)
    return sorted(((phrase, float(score)) for phrase, score in phrases), key=lambda p: (p[1], p[0]))[:top]

