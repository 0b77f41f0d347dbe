"""Entity rules per language (``config/entity_rules.yml``): capital-for-government metonymy and the
statistical-NER names a reader would not accept.

Metonymy (:func:`acts`): a gazetteer entry with ``stands_for`` (a capital or seat of power: Moscow,
le Kremlin, Washington) names its state when it is used as an actor, not as a place: the word just
before it is an agent marker ("according to Moscow", "selon Moscou", "rejected by Washington"), or
it is followed (past at most two short words: "Moscow has also", "Moscou n'a") by a verb of the
language's list, and the word just before it is not a locative or complement word ("in Moscow",
"à Moscou", "the mayor of Moscow", "w Moskwie").

NER filter (:func:`acceptable_ner_name`): statistical NER also tags demonyms, plural common nouns,
portfolio and ministry names without a country, generic nouns and all-capital headers. The rules
are general (word shape, part of speech where the model gives it, the gazetteer's own weak aliases,
the article's own use of the word in lower case) plus small per-language lists of generic nouns,
demonym endings and institution heads; every language has the same fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsmon.core.config import PROJECT_ROOT, read_yaml
from newsmon.core.errors import ConfigError
from newsmon.tagging.gazetteer import Gazetteer, fold

DEFAULT_RULES = PROJECT_ROOT / "config" / "entity_rules.yml"
_SECTIONS = {"metonymy": ("not_after", "after", "skip", "verbs"),
             "ner": ("generic", "demonym_suffixes", "institution_heads"), "phrases": ("edge_words",)}
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
_WORD_RE = re.compile(r"\w+")
MAX_SKIPPED = 2
"""Short words allowed between a capital and its verb ("Moscow has also warned")."""
HEADER_MIN_LETTERS = 6
"""An all-capital single word this long is a header ("EXCLUSIF", "UPDATE"), not an acronym."""


class WordSet:
    """Folded words; an entry ending in ``*`` matches every word starting with it."""

    def __init__(self, words: Sequence[str]) -> None:
        self.exact = frozenset(fold(w) for w in words if not w.endswith("*"))
        self.prefixes = tuple(sorted(fold(w[:-1]) for w in words if w.endswith("*")))

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word in self.exact or word.startswith(self.prefixes))

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)


@dataclass(frozen=True)
class LanguageRules:
    """The rules of one language (every field may be empty)."""

    not_after: WordSet
    after: tuple[str, ...]
    skip: WordSet
    verbs: WordSet
    generic: WordSet
    demonym_suffixes: tuple[str, ...]
    institution_heads: WordSet
    edge_words: WordSet
    """Words a key phrase may not start or end with beyond stop words and verbs (days, months)."""


def _words(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise ConfigError(f"{where}: expected a list of non-empty words (quote yes, no, on, off), "
                          f"got {value!r}")
    return [w.strip() for w in value]


def parse_rules(data: Any, source: str = "<entity rules>") -> dict[str, LanguageRules]:
    """Validate the parsed rules file; errors name ``source``, the language and the field."""
    if not isinstance(data, dict) or set(data) != {"languages"} or not isinstance(data["languages"], dict):
        raise ConfigError(f"{source}: expected a mapping with a single key 'languages' "
                          f"(language code -> rules)")
    rules = {}
    for language, block in data["languages"].items():
        where = f"{source}: language {language!r}"
        if not isinstance(language, str) or not _LANGUAGE_RE.match(language):
            raise ConfigError(f"{where}: a language code such as 'fr' or 'pl'")
        block = block or {}
        if not isinstance(block, dict) or set(block) - set(_SECTIONS):
            raise ConfigError(f"{where}: expected a mapping with the sections {sorted(_SECTIONS)}")
        fields: dict[str, list[str]] = {}
        for section, names in _SECTIONS.items():
            part = block.get(section) or {}
            if not isinstance(part, dict) or set(part) - set(names):
                raise ConfigError(f"{where}: section {section!r}: expected a mapping with the fields "
                                  f"{list(names)}, got {part!r}")
            for name in names:
                fields[name] = _words(part.get(name), f"{where}: field '{section}.{name}'")
        rules[language] = LanguageRules(
            not_after=WordSet(fields["not_after"]), after=tuple(fold(p) for p in fields["after"]),
            skip=WordSet(fields["skip"]), verbs=WordSet(fields["verbs"]), generic=WordSet(fields["generic"]),
            demonym_suffixes=tuple(fold(s) for s in fields["demonym_suffixes"]),
            institution_heads=WordSet(fields["institution_heads"]), edge_words=WordSet(fields["edge_words"]))
    return rules


@functools.cache
def _load(path: str, stamp: tuple[int, int]) -> dict[str, LanguageRules]:
    return parse_rules(read_yaml(path, "entity rules file not found"), path)


def load_rules(path: str | Path = DEFAULT_RULES) -> dict[str, LanguageRules]:
    """The rules file, validated; cached per path and modification time."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{path}: entity rules file not found") from None
    return _load(str(path), (stat.st_mtime_ns, stat.st_size))


@functools.cache
def default_rules() -> dict[str, LanguageRules]:
    """The rules of ``config/entity_rules.yml`` (loaded once per process, like the gazetteer)."""
    return load_rules()


def rules_for(language: str | None) -> list[LanguageRules]:
    """The rules of ``language``; every language's when None; [] for a language without rules."""
    rules = default_rules()
    if language in rules:
        return [rules[language]]
    return list(rules.values()) if language is None else []


# ---------------------------------------------------------------------------- metonymy

def acts(text: str, start: int, end: int, language: str | None) -> bool:
    """Is the name at ``text[start:end]`` used as an actor (see the module docstring)?

    ``language`` picks the rules; None tries every language's.
    """
    before = fold(text[max(0, start - 40):start])
    previous = _WORD_RE.findall(before)
    after = _WORD_RE.findall(fold(text[end:end + 80]))
    for rules in rules_for(language):
        if any(re.search(r"(?:^|\W)" + re.escape(p) + r"\W*$", before) for p in rules.after):
            return True
        if previous and previous[-1] in rules.not_after:
            continue
        if before.rstrip().endswith("'s") and "'s" in rules.not_after.exact:
            continue
        for word in after[:MAX_SKIPPED + 1]:
            if word in rules.verbs:
                return True
            if word not in rules.skip:
                break
    return False


# ---------------------------------------------------------------------------- NER filter

@functools.cache
def _weak_aliases(gazetteer: Gazetteer) -> frozenset[str]:
    return frozenset(fold(a) for e in gazetteer.entities for table in (e.weak,)
                     for aliases in table.values() for a in aliases)


def acceptable_ner_name(surface: str, text: str, language: str | None, gazetteer: Gazetteer,
                        pos: Sequence[str] = (), plural: bool = False,
                        lexicon: Container[str] = frozenset()) -> bool:
    """Would a reader accept the NER name ``surface`` (found in ``text``) as an entity?

    ``pos``: the model's part-of-speech tags of its tokens, when it gives them; ``plural``: the
    model says its only token is a plural; ``lexicon``: folded common words of the language (the model's
    lemmatizer index), a single word found there in any simple singular form is a common word.
    """
    words = surface.split()
    letters = [c for c in surface if c.isalpha()]
    if len(letters) < 2:
        return False
    if all(c.isupper() for c in letters) and (len(words) > 1 or len(letters) >= HEADER_MIN_LETTERS):
        return False  # a header ("EN DIRECT", "EXCLUSIVE"), not an acronym
    folded_words = _WORD_RE.findall(fold(surface))
    proper = "PROPN" in pos
    for rules in rules_for(language):
        if len(folded_words) == 1:
            word = folded_words[0]
            if word in rules.generic:
                return False
            if not proper and word.endswith(rules.demonym_suffixes):
                return False  # "Européens", "Occidentaux", "Westerners"
        elif folded_words and folded_words[0] in rules.institution_heads and not any(
                gazetteer.by_name[gazetteer_name].type == "LOC"
                for gazetteer_name in _named(surface, gazetteer)):
            return False  # "Affaires étrangères", "Ministry of Defence" without a country
    if len(words) == 1:
        if fold(surface) in _weak_aliases(gazetteer):
            return False  # the gazetteer's own demonyms and adjectives ("Russes", "Européens")
        lower = fold(surface)
        forms = {lower, lower[:-1] if lower[-1:] in "sx" else lower,
                 lower[:-3] + "al" if lower.endswith("aux") else lower}
        if not proper and any(form in lexicon for form in forms):
            return False  # "Guerre", "Crise", "Etat", "Occidentaux": common words, capitalised
        if pos and not proper and plural:
            return False  # a plural common noun
        if fold(surface) in _lowercase_words(text):
            return False  # the article itself writes the word in lower case: a common word
    return True


@functools.lru_cache(maxsize=8)
def _lowercase_words(text: str) -> frozenset[str]:
    return frozenset(fold(w) for w in _WORD_RE.findall(text) if w[0].islower())


def _named(surface: str, gazetteer: Gazetteer) -> list[str]:
    return [gazetteer.entities[p.entity].name for _, _, payloads in gazetteer.search(fold(surface))
            for p in payloads]
