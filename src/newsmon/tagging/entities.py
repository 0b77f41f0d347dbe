"""Entity tagging: gazetteer aliases found in an article's title and text, with offsets.

Matching runs on the folded text (see :mod:`newsmon.tagging.gazetteer`: case, accents, typographic
apostrophes and dashes) and every match is mapped back to the original string, so that
``text[m.start:m.end] == m.surface``. Rules:

- A match starts and ends on word boundaries (letters and digits of any script, Cyrillic
  included), so "Nato" matches in "Nato-Gipfel" and "l'Otan" but not in "Natopolitik". French
  elision needs nothing special: the apostrophe is a boundary ("l'Otan", "d'Ukraine",
  "qu'Israël", with straight or typographic apostrophes).
- Strong names are placed first, longest first; weak aliases and short forms then fill the
  remaining gaps, longest first. So the longest match wins and no shorter match overlaps it,
  and a weak or short alias never hides a strong name ("porte-parole du Kremlin" keeps
  "Kremlin").
- A strong name inside a longer strong name of another entity ("Russia" in "Russia's Defence
  Ministry", "Bucharest" in "2008 Bucharest summit", "NATO" in "Nato-Generalsekretär") is not
  a mention of its own but is kept in the longer one's ``embedded`` and names its entity.
- Strong aliases of every language are looked for (another language's alias must match as
  written, accents and capital included); weak aliases and short forms only in the article's
  language (all languages when it is unknown). Short all-capital aliases ("UN", "US", "EU",
  weak "SHAPE") only match capitals.
- An alias shared by several entities goes to the one with a strong name there; failing that,
  to the one entity otherwise named strongly in the article; otherwise it is dropped.
- A weak mention (demonym, title, generic or ambiguous word) is reported with
  ``strength="weak"`` and counts as an entity mention (``counted``) only when the same entity
  is named strongly in the title or text. Demonyms thus never add an entity on their own, but
  topic scoring may still use them as evidence.
- A short form ("M. Lavrov", "Mme Zakharova", "Herr Pistorius") counts only after a full
  (strong) mention of the same entity: earlier in the text, or in the title.

Statistical NER is optional (:func:`ner_mentions`): spaCy with ``fr_core_news_sm`` for French,
used only when both are installed (nothing is ever downloaded). Other languages have no model
configured, and any language whose model is missing gets no NER mentions (a debug line is
logged once): tagging then relies on the gazetteer alone. When NER runs, the gazetteer wins on
overlapping spans; NER-only entities keep the model's type and have no QID.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from newsmon.core.text import normalize_language_code
from newsmon.tagging.gazetteer import AliasPayload, Gazetteer, fold, fold_with_offsets, load_gazetteer
from newsmon.tagging.rules import acceptable_ner_name, acts

log = logging.getLogger(__name__)

NER_MODELS = {"fr": "fr_core_news_sm"}
"""Language -> spaCy model used by :func:`ner_mentions` when installed."""
_NER_TYPES = {"PER": "PER", "PERSON": "PER", "ORG": "ORG", "LOC": "LOC", "GPE": "LOC", "MISC": "MISC",
              "EVENT": "EVENT", "NORP": "MISC"}
_ABBREVIATIONS = frozenset({
    "m", "mm", "mme", "mmes", "mlle", "mlles", "mr", "mrs", "ms", "dr", "st", "ste", "gen", "lt", "col",
    "sgt", "capt", "gov", "sen", "rep", "prof", "nr", "vol", "art", "jan", "janv", "feb", "fev",
    "févr", "mar", "apr", "avr", "jun", "jul", "juil", "aug", "sep", "sept", "oct", "nov", "dec", "déc",
    "etc", "vs", "ca", "bzw", "abs", "hr", "fr", "pr", "u.s", "e.g", "i.e", "z.b", "u.a", "d.h",
})
_SENTENCE_END_RE = re.compile(
    r"[.!?…]+(?:\s?[\"»”’)\]])*\s+(?=[\"«“„(\[]?\s*[A-ZÀ-ÖØ-ÞА-ЯЁЄІЇҐ0-9])|\n\s*")
_TOKEN_BEFORE_RE = re.compile(r"([\w.]+)$")


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of an entity in the title or the text of an article."""

    entity: str
    """Canonical name (gazetteer ``name``; the surface text for NER-only entities)."""
    type: str
    wikidata: str | None
    surface: str
    """Exactly ``text[start:end]`` (or ``title[start:end]`` when ``in_title``)."""
    start: int
    end: int
    sentence: int
    """Index of the sentence in the text (0 for the title)."""
    in_title: bool
    strength: str
    """strong | weak | short (the kind of alias that matched)."""
    source: str = "gazetteer"
    side: str | None = None
    language: str | None = None
    """Language of the alias that matched (None for NER)."""
    counted: bool = True
    """Counts as a mention of the entity (weak and short forms need context, see module doc)."""
    embedded: tuple[Mention, ...] = ()
    """Strong names of other entities inside this one ("Bucharest" in "2008 Bucharest summit",
    "Russia" in "Russia's Defence Ministry"): not separate mentions, but they name those entities."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return asdict(self)


@dataclass(frozen=True)
class EntityCount:
    """Aggregate of the counted mentions of one entity in one article."""

    entity: str
    type: str
    wikidata: str | None
    side: str | None
    mentions: int
    in_title: bool
    first_sentence: int
    """First body sentence naming it (-1 when only in the title)."""
    strengths: tuple[str, ...]
    source: str
    """gazetteer | ner (a state named only through metonymy is a gazetteer entity)."""
    sources: tuple[str, ...] = ()
    """Where its mentions come from: gazetteer, ner, metonymy."""


def sentence_starts(text: str) -> list[int]:
    """Start offsets of the sentences of ``text`` (paragraphs and . ! ? followed by a capital)."""
    return list(_sentence_starts(text))


@functools.lru_cache(maxsize=16)
def _sentence_starts(text: str) -> tuple[int, ...]:
    starts = [0]
    for match in _SENTENCE_END_RE.finditer(text):
        if match.group().startswith("\n") or match.group()[0] in "\r\n\t ":
            starts.append(match.end())
            continue
        if match.group()[0] == ".":
            before = _TOKEN_BEFORE_RE.search(text, max(0, match.start() - 24), match.start())
            token = before.group(1).lower().rstrip(".") if before else ""
            if (token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())
                    or (token.isdigit() and len(token) <= 2)):
                continue  # "M. Lavrov", "U.S. Army", "2. Juni"
        starts.append(match.end())
    return tuple(sorted({s for s in starts if s < len(text) or s == 0}))


def _language(language: str | None) -> str | None:
    return normalize_language_code(language)  # "und" and malformed codes: None (every language)


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The gazetteer of ``config/gazetteer`` (loaded once per process)."""
    return load_gazetteer()


@dataclass
class _Match:
    start: int
    end: int
    options: dict[int, tuple[str, str]]  # entity index -> (strength, alias language)
    in_title: bool
    embedded: list[_Match] = field(default_factory=list)


_RANK = {"strong": 0, "short": 1, "weak": 2}


def _options(payloads: tuple[AliasPayload, ...], surface: str,
             language: str | None) -> dict[int, tuple[str, str]]:
    """Entity -> (strength, alias language) for one match.

    The article's language decides when it lists the alias: "Hagel" is weak in German (hail)
    even though it is Chuck Hagel's strong name in English. Written both with and without a
    capital there, the text's case decides: French "Argentine" the country (strong),
    "argentine" the adjective (weak). Otherwise strong aliases of other languages apply, as
    written (:meth:`AliasPayload.accepts`); weak aliases and short forms never cross languages.
    """
    per_entity: dict[int, list[AliasPayload]] = {}
    for p in payloads:
        per_entity.setdefault(p.entity, []).append(p)
    options: dict[int, tuple[str, str]] = {}
    for entity, candidates in per_entity.items():
        own = [p for p in candidates if p.language == language] if language is not None else candidates
        if own and language is not None and len({p.capital for p in own}) > 1:
            initial = surface[:1].isupper()
            own = [p for p in own if p.capital == initial] or own
        if not own:
            own = [p for p in candidates if p.strength == "strong"]
        usable = [p for p in own if p.accepts(surface, language)]
        if usable:
            best = min(usable, key=lambda p: _RANK[p.strength])
            options[entity] = (best.strength, best.language)
    return options


def _candidates(part: str, in_title: bool, gazetteer: Gazetteer, language: str | None) -> list[_Match]:
    """Non-overlapping matches in one string: strong names first, longest first, then the rest.

    A strong name inside a longer strong name of another entity is kept as ``embedded`` in it.
    """
    folded, offsets = fold_with_offsets(part)
    tiers: tuple[list[tuple[int, int, _Match]], ...] = ([], [])
    for f_start, f_end, payloads in gazetteer.search(folded):
        start, end = offsets.start(f_start), offsets.end(f_end, part)
        options = _options(payloads, part[start:end], language)
        if options:
            strong = any(strength == "strong" for strength, _ in options.values())
            tiers[0 if strong else 1].append((f_start, f_end, _Match(start, end, options, in_title)))
    taken = bytearray(len(folded))
    placed: list[tuple[int, int, _Match]] = []
    for number, tier in enumerate(tiers):
        tier.sort(key=lambda c: (c[0] - c[1], c[0]))
        for f_start, f_end, match in tier:
            if any(taken[f_start:f_end]):
                if number == 0:
                    outer = next((m for s, e, m in placed if s <= f_start and f_end <= e), None)
                    if outer is not None and not set(match.options) & set(outer.options):
                        outer.embedded.append(match)
                continue
            taken[f_start:f_end] = b"\x01" * (f_end - f_start)
            placed.append((f_start, f_end, match))
    return [match for _, _, match in placed]


def _resolve(options: dict[int, tuple[str, str]], named: set[int]) -> tuple[int, str, str] | None:
    """One entity for a match: the only option, else the one with a strong name here, else the one
    named elsewhere in the article; None when still ambiguous."""
    if len(options) > 1:
        choice = [e for e, (strength, _) in options.items() if strength == "strong"]
        if len(choice) != 1:
            choice = [e for e in (choice or options) if e in named]
        if len(choice) != 1:
            return None
        options = {choice[0]: options[choice[0]]}
    number, (strength, language) = next(iter(options.items()))
    return number, strength, language


def tag(text: str, title: str | None = None, language: str | None = None,
        gazetteer: Gazetteer | None = None, *, ner: bool = False) -> list[Mention]:
    """All entity mentions in ``title`` and ``text``, title first then in text order."""
    gazetteer = gazetteer or default_gazetteer()
    language = _language(language)
    text = text or ""
    matches = (_candidates(title, True, gazetteer, language) if title else []) + _candidates(
        text, False, gazetteer, language)
    matches.sort(key=lambda m: (not m.in_title, m.start))
    # entities named by an unambiguous strong alias: the context that resolves the rest
    named = {e for m in matches for inner in (m, *m.embedded) if len(inner.options) == 1
             for e, (strength, _) in inner.options.items() if strength == "strong"}
    resolved = []
    first_strong: dict[int, tuple[bool, int]] = {}
    for match in matches:
        choice = _resolve(match.options, named)
        if choice is None:
            continue  # ambiguous and no context: dropped
        inner = [(m, c) for m in match.embedded if (c := _resolve(m.options, named)) and c[1] == "strong"]
        resolved.append((match, choice, inner))
        for where, (number, strength, _) in ((match, choice), *inner):
            if strength == "strong":
                first_strong.setdefault(number, (not where.in_title, where.start))
    starts = sentence_starts(text)

    def mention(match: _Match, number: int, strength: str, alias_language: str, counted: bool,
                embedded: tuple[Mention, ...] = ()) -> Mention:
        entity = gazetteer.entities[number]
        part = title if match.in_title else text
        assert part is not None
        return Mention(
            entity=entity.name, type=entity.type, wikidata=entity.wikidata,
            surface=part[match.start:match.end], start=match.start, end=match.end,
            sentence=0 if match.in_title else bisect_right(starts, match.start) - 1,
            in_title=match.in_title, strength=strength, side=entity.side, language=alias_language,
            counted=counted, embedded=embedded)

    mentions: list[Mention] = []
    for match, (number, strength, alias_language), inner in resolved:
        if strength == "strong":
            counted = True
        elif strength == "weak":
            counted = number in first_strong
        else:  # short form: only after a full mention
            counted = number in first_strong and first_strong[number] < (not match.in_title, match.start)
        embedded = tuple(mention(m, n, s, lang, True) for m, (n, s, lang) in inner if n != number)
        entity = gazetteer.entities[number]
        part = (title if match.in_title else text) or ""
        if entity.stands_for is not None and strength != "short" and acts(
                part, match.start, match.end, language or alias_language):
            state = gazetteer.by_name[entity.stands_for]
            embedded += (_metonymy(mention(match, number, strength, alias_language, True), state),)
        mentions.append(mention(match, number, strength, alias_language, counted, embedded))
    if ner:
        found = (ner_mentions(title or "", language, in_title=True, gazetteer=gazetteer)
                 + ner_mentions(text, language, gazetteer=gazetteer))
        mentions = merge_mentions(mentions, found)
    return mentions


def _metonymy(capital: Mention, state: Any) -> Mention:
    """The state a capital or seat of power stands for, as a mention on the same span."""
    return Mention(entity=state.name, type=state.type, wikidata=state.wikidata, surface=capital.surface,
                   start=capital.start, end=capital.end, sentence=capital.sentence, in_title=capital.in_title,
                   strength="strong", source="metonymy", side=state.side, language=capital.language,
                   counted=True)


def flatten(mentions: Iterable[Mention]) -> list[Mention]:
    """Mentions with the names embedded in them (``Mention.embedded``) listed after each."""
    return [inner for m in mentions for inner in (m, *m.embedded)]


def entities(text: str | None = None, title: str | None = None, language: str | None = None,
             gazetteer: Gazetteer | None = None, *, mentions: Iterable[Mention] | None = None,
             ner: bool = False) -> list[EntityCount]:
    """The entities of an article (counted mentions only), most mentioned first.

    Pass ``mentions`` (from :func:`tag`) to aggregate without tagging again.
    """
    if mentions is None:
        mentions = tag(text or "", title, language, gazetteer, ner=ner)
    groups: dict[str, list[Mention]] = {}
    for mention in flatten(mentions):
        if mention.counted:
            groups.setdefault(mention.entity, []).append(mention)
    result = []
    for name, group in groups.items():
        body = [m.sentence for m in group if not m.in_title]
        first = group[0]
        result.append(EntityCount(
            entity=name, type=first.type, wikidata=first.wikidata, side=first.side, mentions=len(group),
            in_title=any(m.in_title for m in group), first_sentence=min(body) if body else -1,
            strengths=tuple(sorted({m.strength for m in group})),
            source="gazetteer" if first.source == "metonymy" else first.source,
            sources=tuple(sorted({m.source for m in group}))))
    result.sort(key=lambda e: (-e.mentions, not e.in_title, e.first_sentence, e.entity))
    return result


# ---------------------------------------------------------------------------- optional NER

@functools.cache
def _ner_model(language: str | None) -> Any:
    name = NER_MODELS.get(language or "")
    if name is None:
        log.debug("no NER model configured for language %r: gazetteer only", language)
        return None
    if importlib.util.find_spec("spacy") is None:
        log.debug("spaCy is not installed: no NER for %r, gazetteer only", language)
        return None
    if importlib.util.find_spec(name) is None:
        log.debug("spaCy model %s is not installed: no NER for %r, gazetteer only", name, language)
        return None
    try:
        import spacy

        # the morphologizer shares the NER's token vectors: part of speech for the filter, ~free;
        # the lemmatizer is loaded but not run: its word index is the lexicon of common words
        return spacy.load(name, exclude=["tagger", "parser", "attribute_ruler"], disable=["lemmatizer"])
    except (ImportError, OSError, ValueError) as exc:  # never download: a missing model means no NER
        log.debug("spaCy model %s cannot be loaded (%s): gazetteer only", name, exc)
        return None


class Lexicon:
    """Common words of a language from the NER model's rule lemmatizer tables (folded): the
    word index per part of speech, reached from inflected forms through the suffix rules
    ("évoquant" -> "évoquer", "occidentaux" -> "occidental")."""

    def __init__(self, index: dict[str, frozenset[str]],
                 rules: dict[str, tuple[tuple[str, str], ...]]) -> None:
        self.index = index
        self.rules = rules

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        for pos, words in self.index.items():
            if word in words:
                return True
            for old, new in self.rules.get(pos, ()):
                if word.endswith(old) and len(word) > len(old) and word[:len(word) - len(old)] + new in words:
                    return True
        return False

    def __bool__(self) -> bool:
        return bool(self.index)

    def is_verb(self, word: str) -> bool:
        """A verb form ("entamé", "montré") that is no noun or adjective form ("sécurité")."""
        verbs = self.index.get("verb")
        if not verbs:
            return False
        if word in verbs:  # an infinitive ("éviter") that is no noun as written
            return word not in self.index.get("noun", ()) and word not in self.index.get("adj", ())
        return self._in("verb", word) and not self._in("noun", word) and not self._in("adj", word)

    def _in(self, pos: str, word: str) -> bool:
        words = self.index.get(pos, frozenset())
        return word in words or any(word.endswith(old) and len(word) > len(old)
                                    and word[:len(word) - len(old)] + new in words
                                    for old, new in self.rules.get(pos, ()))


def lexicon(language: str | None, *, accents: bool = False) -> Lexicon | None:
    """The common-word lexicon of ``language`` from its installed spaCy model, or None; folded
    (case and accents ignored), or only lower-cased with ``accents``."""
    found = _lexicon(_language(language), accents)
    return found if found else None


@functools.cache
def _lexicon(language: str | None, accents: bool = False) -> Lexicon:
    nlp = _ner_model(language)
    if nlp is None or "lemmatizer" not in nlp.component_names:
        return Lexicon({}, {})
    lookups = nlp.get_pipe("lemmatizer").lookups
    if "lemma_index" not in lookups.tables:
        return Lexicon({}, {})
    index, rules = lookups.get_table("lemma_index"), lookups.get_table("lemma_rules")
    names = {nlp.vocab.strings.as_int(pos): pos for pos in ("noun", "verb", "adj", "adv")}
    norm = str.lower if accents else fold
    return Lexicon({names.get(key, str(key)): frozenset(norm(w) for w in index[key]) for key in index},
                   {names.get(key, str(key)): tuple((norm(old), norm(new)) for old, new in rules[key])
                    for key in rules if key in index})


_EDGE_POS = ("DET", "ADP", "CCONJ", "SCONJ", "PRON")
_NOT_NAME_POS = frozenset({"VERB", "AUX", "ADJ", "ADV", "ADP", "PRON", "DET", "CCONJ", "SCONJ", "NUM",
                           "PUNCT"})
_ARTICLE_RE = re.compile(r"^\w{1,3}['’]$")
_ELIDED_RE = re.compile(r"\s*\b\w{1,6}['’]$")


def ner_available(language: str | None) -> bool:
    """True when :func:`ner_mentions` can run for ``language``."""
    return _ner_model(_language(language)) is not None


def ner_mentions(text: str, language: str | None, *, in_title: bool = False,
                 gazetteer: Gazetteer | None = None) -> list[Mention]:
    """Named entities found by spaCy in ``text`` that a reader would accept
    (:func:`newsmon.tagging.rules.acceptable_ner_name`: no demonyms, generic nouns, ministry names
    without a country or headers); [] when spaCy or the model is not installed."""
    language = _language(language)
    nlp = _ner_model(language)
    if nlp is None or not text:
        return []
    starts = [0] if in_title else sentence_starts(text)
    found = []
    for ent in nlp(text).ents:
        kind = _NER_TYPES.get(ent.label_)
        if kind is None:
            continue
        start, end = ent.start_char, ent.end_char
        elided = _ELIDED_RE.search(text, start, end)  # "Mubarak Bala s'", "Demulder n'", "qu'"
        if elided is not None:
            end = elided.start()
            ent = ent.doc.char_span(start, end, alignment_mode="contract") if end > start else None
            if ent is None or not ent.text.strip():
                continue
            start, end = ent.start_char, ent.end_char
        tokens = list(ent)
        while tokens and tokens[-1].pos_ in (*_EDGE_POS, "PUNCT") and not tokens[-1].text[:1].isupper():
            tokens.pop()  # "attentat du"
        if not tokens:
            continue
        ent = ent.doc[tokens[0].i:tokens[-1].i + 1]
        start, end = ent.start_char, ent.end_char
        core = list(tokens)
        while len(core) > 1 and (core[0].pos_ in ("DET", "ADP") or _ARTICLE_RE.match(core[0].text)):
            core.pop(0)  # judge "La guerre", "l'armée" by "guerre", "armée"
        if len(core) == 1 and core[0].pos_ in _NOT_NAME_POS:
            continue  # "évoquant", "incarcérée", "soixante-deux"
        pos = [t.pos_ for t in core if t.pos_]
        plural = len(core) == 1 and "Plur" in core[0].morph.get("Number")
        if len(tokens) > 1 and tokens[-1].pos_ in ("VERB", "AUX") and tokens[-1].text[:1].islower():
            continue  # the model ran over into the verb ("Agence juive signale")
        judged = ent.doc[core[0].i:core[-1].i + 1].text
        if not acceptable_ner_name(judged, text, language, gazetteer or default_gazetteer(), pos, plural,
                                   _lexicon(language)):
            continue
        found.append(Mention(
            entity=" ".join(ent.text.split()), type=kind, wikidata=None, surface=text[start:end], start=start,
            end=end, sentence=0 if in_title else bisect_right(starts, start) - 1, in_title=in_title,
            strength="strong", source="ner", side=None, language=None, counted=True))
    return found


def merge_mentions(gazetteer_mentions: list[Mention], ner: list[Mention]) -> list[Mention]:
    """Gazetteer mentions plus the NER mentions that overlap none of them (the gazetteer wins)."""
    merged = list(gazetteer_mentions)
    spans = [(m.in_title, m.start, m.end) for m in gazetteer_mentions]
    for mention in ner:
        if any(t == mention.in_title and s < mention.end and mention.start < e for t, s, e in spans):
            continue
        merged.append(mention)
    merged.sort(key=lambda m: (not m.in_title, m.start))
    return merged
