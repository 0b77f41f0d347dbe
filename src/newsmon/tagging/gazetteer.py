"""Entity gazetteer: load and validate ``config/gazetteer/*.yml``, fold text, match aliases.

Every alias is folded exactly like the text it is looked for in (:func:`fold`): Unicode NFKC,
typographic apostrophes, quotes and dashes unified, case folding (``normalize_text`` of the
deduplication stage), then accents stripped (NFD, combining marks removed) and white space
around punctuation dropped. All aliases of all entities (strong, weak and short forms) go into
one Aho-Corasick automaton whose payloads say which entity, strength and language each folded
alias stands for. The automaton is built once per process and per set of files (see
:func:`load_gazetteer`); a pickled :class:`Gazetteer` leaves it out and rebuilds it on first use.

Beyond folding, a payload may ask more of the original text (:meth:`AliasPayload.accepts`):
short acronyms written in capitals ("UN", "US", "WHO"; weak ones up to six letters, "SHAPE",
"DIANA") only match capitals, and an alias of another language than the article's must match as
written, accents and initial capital included (Spanish "Seúl" is not French "seul").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from newsmon.articles.hashing import normalize_text
from newsmon.core.config import PROJECT_ROOT, read_yaml
from newsmon.core.errors import ConfigError

DEFAULT_GAZETTEER_DIR = PROJECT_ROOT / "config" / "gazetteer"
LANGUAGES_FILE = PROJECT_ROOT / "config" / "languages.yml"
TYPES = ("PER", "ORG", "LOC", "EVENT", "MISC")
SIDES = ("nato", "russia", "neutral")
STRENGTHS = ("strong", "weak", "short")
_FIELDS = frozenset({"name", "type", "wikidata", "side", "roles", "aliases", "weak", "short_forms",
                     "stands_for"})
_QID_RE = re.compile(r"^Q[1-9][0-9]*$")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD_RE = re.compile(r"[^\W\d_]+")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ACRONYM_MAX_LETTERS = 3
"""An all-capital alias this short ("UN", "US", "EU", "РФ") only matches capitals in the text,
so that "us", "eu" or "can" in running text are not taken for acronyms."""
WEAK_ACRONYM_MAX_LETTERS = 6
"""Weak aliases in capitals up to this length too ("SHAPE", "DIANA" are not "shape", "Diana").
Longer strong acronyms stay case-insensitive: the press writes "Nato", "Otan", "Osze"."""


def load_languages(path: str | Path = LANGUAGES_FILE) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tagged languages of ``config/languages.yml``: (all, required) ISO 639-1 codes."""
    path = Path(path)
    data = read_yaml(path, "languages file not found")
    table = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{path}: expected a mapping 'languages:' of code -> {{name, required}}")
    required = []
    for code, entry in table.items():
        where = f"{path}: language {code!r}"
        if not isinstance(code, str) or not re.fullmatch(r"[a-z]{2,3}", code):
            raise ConfigError(f"{where}: the key must be an ISO 639-1 code such as 'pl'")
        if not isinstance(entry, dict) or set(entry) - {"name", "required"}:
            raise ConfigError(f"{where}: expected {{name: ..., required: true|false}}, got {entry!r}")
        if not isinstance(entry.get("required", False), bool):
            raise ConfigError(f"{where}: field 'required': must be true or false")
        if entry.get("required", False):
            required.append(code)
    if not required:
        raise ConfigError(f"{path}: at least one language must be required: true")
    return tuple(table), tuple(required)


LANGUAGES, REQUIRED_LANGUAGES = load_languages()
"""Every tagged language, and those every gazetteer entity must have aliases in."""


# ---------------------------------------------------------------------------- folding

class _FoldTable(dict):
    """ord(char) -> folded string, computed on first use (a ``str.translate`` table)."""

    irregular: set[str]

    def __init__(self) -> None:
        super().__init__()
        self.irregular = set()
        self.version = 0

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char.isspace():
            folded = " "
        else:
            folded = normalize_text(char)
            folded = "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
            folded = folded.replace(" ", "")
        self[code] = folded
        if len(folded) != 1:
            self.irregular.add(char)
            self.version += 1
        return folded


_TABLE = _FoldTable()
_irregular_re: tuple[int, re.Pattern[str] | None] = (-1, None)
# spaces to drop: leading, trailing, next to punctuation, and all but the first of a run
_DROP_SPACE_RE = re.compile(r"^ +| +$|(?<=[^\w ]) +| +(?=[^\w ])|(?<= ) +")


def _irregular() -> re.Pattern[str] | None:
    global _irregular_re
    if _irregular_re[0] != _TABLE.version:
        chars = sorted(_TABLE.irregular)
        _irregular_re = (_TABLE.version, re.compile("[" + "".join(re.escape(c) for c in chars) + "]")
                         if chars else None)
    return _irregular_re[1]


@dataclass(frozen=True)
class OffsetMap:
    """Maps positions in a folded string back to the original text."""

    seg_starts: tuple[int, ...]
    """Start, in the folded string, of each kept segment."""
    seg_sources: tuple[int, ...]
    """Start of the same segment in the per-character fold (before spaces were dropped)."""
    marks: tuple[tuple[int, ...], tuple[int, ...], tuple[bool, ...]] | None
    """Where the per-character fold is not one character per character (ß -> ss, dropped soft
    hyphens): per-character-fold positions, original positions, and whether the position starts
    the expansion of one original character. None when the fold is one char per char."""
    length: int
    """Length of the original text."""

    def start(self, i: int) -> int:
        """Original index of folded character ``i``."""
        k = bisect_right(self.seg_starts, i) - 1
        j = self.seg_sources[k] + i - self.seg_starts[k]
        if self.marks is None:
            return j
        folded_at, original_at, expansion = self.marks
        m = bisect_right(folded_at, j) - 1
        if m < 0:
            return j
        return original_at[m] if expansion[m] else original_at[m] + j - folded_at[m]

    def end(self, i: int, text: str) -> int:
        """Original end (exclusive) of a match whose last folded character is ``i - 1``."""
        end = self.start(i - 1) + 1
        while end < self.length and (unicodedata.combining(text[end]) or _TABLE[ord(text[end])] == ""):
            end += 1  # decomposed accents and soft hyphens belong to the character before
        return end


def fold(text: str) -> str:
    """The folded form of ``text`` in which aliases are looked up."""
    return fold_with_offsets(text)[0]


_Marks = tuple[tuple[int, ...], tuple[int, ...], tuple[bool, ...]]


def _marks(text: str, pattern: re.Pattern[str]) -> _Marks | None:
    folded_at: list[int] = []
    original_at: list[int] = []
    expansion: list[bool] = []
    shift = 0
    for found in pattern.finditer(text):
        i = found.start()
        size = len(_TABLE[ord(text[i])])
        if size:
            folded_at.append(i + shift)
            original_at.append(i)
            expansion.append(True)
        shift += size - 1
        folded_at.append(i + 1 + shift)
        original_at.append(i + 1)
        expansion.append(False)
    return (tuple(folded_at), tuple(original_at), tuple(expansion)) if folded_at else None


@functools.lru_cache(maxsize=16)
def fold_with_offsets(text: str) -> tuple[str, OffsetMap]:
    """Fold ``text`` and return the map from folded positions back to ``text``.

    The last few results are cached: tagging and term matching fold the same article."""
    per_char = text.translate(_TABLE)
    pattern = _irregular()
    marks = _marks(text, pattern) if pattern is not None else None
    seg_starts, seg_sources, pieces = [], [], []
    kept = pos = 0
    for drop in _DROP_SPACE_RE.finditer(per_char):
        a, b = drop.span()
        if a > pos:
            seg_starts.append(kept)
            seg_sources.append(pos)
            pieces.append(per_char[pos:a])
            kept += a - pos
        pos = b
    if pos < len(per_char):
        seg_starts.append(kept)
        seg_sources.append(pos)
        pieces.append(per_char[pos:])
    folded = "".join(pieces) if len(pieces) != 1 else pieces[0]
    return folded, OffsetMap(tuple(seg_starts) or (0,), tuple(seg_sources) or (0,), marks, len(text))


def is_word_char(char: str) -> bool:
    """True for letters, digits and underscore (``\\w``), in any script."""
    return char.isalnum() or char == "_"


def _is_acronym(alias: str, strength: str) -> bool:
    letters = [c for c in alias if c.isalpha()]
    limit = WEAK_ACRONYM_MAX_LETTERS if strength != "strong" else ACRONYM_MAX_LETTERS
    return 0 < len(letters) <= limit and all(c.isupper() for c in letters)


# ---------------------------------------------------------------------------- model

@dataclass(frozen=True)
class Entity:
    """One gazetteer entry."""

    name: str
    type: str
    wikidata: str | None
    side: str | None
    aliases: Mapping[str, tuple[str, ...]]
    weak: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    short_forms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    source: str = ""
    stands_for: str | None = None
    """Canonical name of the state this capital or seat of power stands for when it acts
    ("Moscow warned", "le Kremlin a répondu"): see :mod:`newsmon.tagging.entities`."""


@dataclass(frozen=True)
class AliasPayload:
    """What one folded alias stands for: an entity (index), a strength and a language."""

    entity: int
    strength: str
    language: str
    acronym: bool
    """Written in capitals and short: the text must use capitals too."""
    spellings: frozenset[str] = frozenset()
    """The aliases as written, case-folded but with their accents (``normalize_text``)."""
    capital: bool = False
    """The alias is written with an initial capital (a name, not a common word)."""

    def accepts(self, surface: str, language: str | None) -> bool:
        """Does ``surface`` (the original text) qualify for this alias in an article in ``language``?

        Acronyms need capitals. An alias of another language than the article's must match as
        written, accents included, and with its initial capital: Spanish "Seúl" does not match
        French "seul", German "Island" does not match English "island".
        """
        if self.acronym and not all(c.isupper() for c in surface if c.isalpha()):
            return False
        if language is None or language == self.language:
            return True
        if self.capital and not surface[:1].isupper():
            return False
        return normalize_text(surface) in self.spellings


class Gazetteer:
    """Validated entities plus the alias automaton (built lazily, once)."""

    def __init__(self, entities: list[Entity] | tuple[Entity, ...]) -> None:
        self.entities: tuple[Entity, ...] = tuple(entities)
        self.by_name: dict[str, Entity] = {e.name: e for e in self.entities}
        self._automaton: Any = None
        self._payloads: list[tuple[AliasPayload, ...]] = []

    def __len__(self) -> int:
        return len(self.entities)

    def __getstate__(self) -> dict[str, Any]:
        return {"entities": self.entities}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["entities"])  # type: ignore[misc]

    def build(self) -> Gazetteer:
        """Compile the automaton now (otherwise done on first search)."""
        if self._automaton is None:
            keys: dict[str, dict[tuple[int, str, str], list[str]]] = {}
            for number, entity in enumerate(self.entities):
                for strength, table in (("strong", entity.aliases), ("weak", entity.weak),
                                        ("short", entity.short_forms)):
                    for language, aliases in table.items():
                        for alias in aliases:
                            slot = keys.setdefault(fold(alias), {})
                            slot.setdefault((number, strength, language), []).append(alias)
            automaton = ahocorasick.Automaton()
            payloads: list[tuple[AliasPayload, ...]] = []
            for key, slot in keys.items():
                automaton.add_word(key, (len(key), len(payloads)))
                payloads.append(tuple(
                    AliasPayload(n, s, lang, acronym=all(_is_acronym(a, s) for a in written),
                                 spellings=frozenset(normalize_text(a) for a in written),
                                 capital=all(a[:1].isupper() for a in written))
                    for (n, s, lang), written in slot.items()))
            automaton.make_automaton()
            self._payloads = payloads
            self._automaton = automaton
        return self

    def search(self, folded: str) -> Iterator[tuple[int, int, tuple[AliasPayload, ...]]]:
        """Every alias occurrence in ``folded`` on word boundaries: (start, end, payloads)."""
        self.build()
        payloads = self._payloads
        size = len(folded)
        for last, (length, slot) in self._automaton.iter(folded):
            start, end = last - length + 1, last + 1
            if start > 0 and is_word_char(folded[start]) and is_word_char(folded[start - 1]):
                continue
            if end < size and is_word_char(folded[last]) and is_word_char(folded[end]):
                continue
            yield start, end, payloads[slot]


# ---------------------------------------------------------------------------- loading

def _language_map(value: Any, where: str, field_name: str, required: bool) -> dict[str, tuple[str, ...]]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: field '{field_name}': expected a mapping from language code to a list "
                          f"of names, got {type(value).__name__}")
    unknown = sorted(set(value) - set(LANGUAGES), key=str)
    if unknown:
        raise ConfigError(f"{where}: field '{field_name}': unknown language(s) {unknown}; "
                          f"allowed: {list(LANGUAGES)}")
    if required:
        missing = [lang for lang in REQUIRED_LANGUAGES if lang not in value]
        if missing:
            raise ConfigError(f"{where}: field '{field_name}': missing language(s) {missing}; "
                              f"every entity needs {list(REQUIRED_LANGUAGES)}")
    result: dict[str, tuple[str, ...]] = {}
    for lang, names in value.items():
        if not isinstance(names, list) or not names:
            raise ConfigError(f"{where}: field '{field_name}.{lang}': expected a non-empty list of names, "
                              f"got {names!r}")
        for alias in names:
            if not isinstance(alias, str) or not alias.strip():
                raise ConfigError(f"{where}: field '{field_name}.{lang}': every name must be a non-empty "
                                  f"string, got {alias!r}")
            if not any(is_word_char(c) for c in fold(alias)):
                raise ConfigError(f"{where}: field '{field_name}.{lang}': {alias!r} has no letter or digit")
            for token in _WORD_RE.findall(alias):
                if _CYRILLIC_RE.search(token) and _LATIN_RE.search(token):
                    raise ConfigError(f"{where}: field '{field_name}.{lang}': {alias!r} mixes Cyrillic and "
                                      f"Latin letters in {token!r}")
        result[lang] = tuple(a.strip() for a in names)
    return result


def parse_entities(data: Any, source: str = "<gazetteer>") -> list[Entity]:
    """Validate one parsed gazetteer file; errors name ``source``, the entity and the field."""
    if not isinstance(data, dict) or "entities" not in data:
        raise ConfigError(f"{source}: expected a mapping with an 'entities:' list at the top")
    unknown_top = set(data) - {"entities"}
    if unknown_top:
        raise ConfigError(f"{source}: unknown top-level key(s) {sorted(unknown_top)}; only 'entities'")
    items = data["entities"]
    if not isinstance(items, list):
        raise ConfigError(f"{source}: 'entities' must be a list, got {type(items).__name__}")
    entities = []
    for number, item in enumerate(items):
        where = f"{source}: entities[{number}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a mapping with name, type and aliases, got "
                              f"{type(item).__name__}")
        if isinstance(item.get("name"), str):
            where += f" ({item['name']!r})"
        unknown = set(item) - _FIELDS
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {sorted(map(str, unknown))}; "
                              f"allowed: {sorted(_FIELDS)}")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: field 'name' is required and must be a non-empty string")
        kind = item.get("type")
        if kind not in TYPES:
            raise ConfigError(f"{where}: field 'type': must be one of {list(TYPES)}, got {kind!r}")
        qid = item.get("wikidata")
        if qid is not None and (not isinstance(qid, str) or not _QID_RE.match(qid)):
            raise ConfigError(f"{where}: field 'wikidata': a QID such as 'Q7184' or null, got {qid!r}")
        side = item.get("side")
        if side is not None and side not in SIDES:
            raise ConfigError(f"{where}: field 'side': must be one of {list(SIDES)} or absent, got {side!r}")
        roles = item.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ConfigError(f"{where}: field 'roles': must be a list of strings, got {roles!r}")
        stands_for = item.get("stands_for")
        if stands_for is not None and (not isinstance(stands_for, str) or not stands_for.strip()):
            raise ConfigError(f"{where}: field 'stands_for': the canonical name of a state, "
                              f"got {stands_for!r}")
        if "aliases" not in item:
            raise ConfigError(f"{where}: field 'aliases' is required (one list per language "
                              f"{list(REQUIRED_LANGUAGES)})")
        entities.append(Entity(
            name=name.strip(), type=kind, wikidata=qid, side=side,
            aliases=_language_map(item["aliases"], where, "aliases", required=True),
            weak=_language_map(item.get("weak"), where, "weak", required=False),
            short_forms=_language_map(item.get("short_forms"), where, "short_forms", required=False),
            roles=tuple(roles), source=source,
            stands_for=stands_for.strip() if isinstance(stands_for, str) else None))
    return entities


def _read(path: Path) -> Any:
    return read_yaml(path, "gazetteer file not found", _LOADER)


def check_entities(entities: list[Entity]) -> None:
    """Checks across files: unique canonical names (also folded) and no strong alias shared by two
    entities. Weak/weak and strong/weak overlaps are allowed (the tagger resolves them)."""
    names: dict[str, Entity] = {}
    for entity in entities:
        key = fold(entity.name)
        if key in names:
            other = names[key]
            raise ConfigError(f"{entity.source}: entity {entity.name!r}: field 'name': duplicate canonical "
                              f"name (also {other.name!r} in {other.source})")
        names[key] = entity
    strong: dict[str, Entity] = {}
    for entity in entities:
        for lang, aliases in entity.aliases.items():
            for alias in aliases:
                key = fold(alias)
                other = strong.setdefault(key, entity)
                if other is not entity:
                    raise ConfigError(f"{entity.source}: entity {entity.name!r}: field 'aliases.{lang}': "
                                      f"strong alias {alias!r} also belongs to {other.name!r} "
                                      f"({other.source}); make one of them weak")
    by_name = {entity.name: entity for entity in entities}
    for entity in entities:
        if entity.stands_for is None:
            continue
        target = by_name.get(entity.stands_for)
        if target is None or target is entity or target.stands_for is not None:
            raise ConfigError(f"{entity.source}: entity {entity.name!r}: field 'stands_for': "
                              f"{entity.stands_for!r} is not the canonical name of another entry "
                              f"(a state, itself standing for nothing)")
        if target.type != "LOC":
            raise ConfigError(f"{entity.source}: entity {entity.name!r}: field 'stands_for': "
                              f"{entity.stands_for!r} is a {target.type}, expected a state (LOC)")


_CACHE: dict[tuple[Any, ...], Gazetteer] = {}


def load_gazetteer(path_or_dir: str | Path = DEFAULT_GAZETTEER_DIR) -> Gazetteer:
    """Load a gazetteer file or every ``*.yml`` of a directory, validated, automaton compiled.

    Cached per process by path and file modification times: calling it again is free.
    """
    path = Path(path_or_dir)
    if path.is_dir():
        files = sorted(path.glob("*.yml"))
        if not files:
            raise ConfigError(f"{path}: no *.yml gazetteer files in this directory")
    elif path.exists():
        files = [path]
    else:
        raise ConfigError(f"{path}: gazetteer file or directory not found")
    stamp = tuple((str(f.resolve()), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    cached = _CACHE.get(stamp)
    if cached is not None:
        return cached
    entities: list[Entity] = []
    for file in files:
        entities.extend(parse_entities(_read(file), str(file)))
    check_entities(entities)
    gazetteer = Gazetteer(entities).build()
    _CACHE[stamp] = gazetteer
    return gazetteer
