"""Gazetteer: loading, validation errors (data-driven), folding and offsets, the cached automaton."""

from __future__ import annotations

import copy
import pickle
import unicodedata
from pathlib import Path

import pytest
import yaml

from newsmon.articles.hashing import normalize_text
from newsmon.core.errors import ConfigError
from newsmon.tagging.gazetteer import (
    DEFAULT_GAZETTEER_DIR,
    LANGUAGES,
    Gazetteer,
    fold,
    fold_with_offsets,
    load_gazetteer,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = yaml.safe_load((ROOT / "eval" / "tagging" / "corpus.yml").read_text(encoding="utf-8"))["articles"]

VALID = {
    "name": "Sergey Lavrov", "type": "PER", "wikidata": None, "side": "russia",
    "roles": ["Minister of Foreign Affairs of Russia"],
    "aliases": {"en": ["Sergey Lavrov", "Lavrov"], "fr": ["Sergueï Lavrov"], "de": ["Sergej Lawrow"],
                "es": ["Serguéi Lavrov"], "ru": ["Сергей Лавров"], "uk": ["Сергій Лавров"]},
    "weak": {"en": ["Russian Foreign Minister"]},
    "short_forms": {"fr": ["M. Lavrov"]},
}
OTHER = {**copy.deepcopy(VALID), "name": "Dmitry Peskov",
         "aliases": {lang: [f"Peskov {lang}"] for lang in LANGUAGES}, "weak": {}, "short_forms": {}}


def _set(path: str, value: object):
    def mutate(entity: dict) -> None:
        keys = path.split(".")
        target = entity
        for key in keys[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return mutate


_DELETE = object()

# (case, mutation of a valid entity, fragments the error message must contain)
ENTITY_ERRORS = [
    ("unknown field", _set("alias", ["x"]), ["entities[0]", "'Sergey Lavrov'", "unknown field", "alias"]),
    ("missing name", _set("name", _DELETE), ["entities[0]", "field 'name'"]),
    ("empty name", _set("name", "  "), ["entities[0]", "field 'name'"]),
    ("bad type", _set("type", "PERSON"), ["'Sergey Lavrov'", "field 'type'", "PERSON"]),
    ("lowercase type", _set("type", "per"), ["field 'type'"]),
    ("QID without Q", _set("wikidata", "7747"), ["'Sergey Lavrov'", "field 'wikidata'", "7747"]),
    ("QID lowercase", _set("wikidata", "q7747"), ["field 'wikidata'"]),
    ("QID letters", _set("wikidata", "Q77a"), ["field 'wikidata'"]),
    ("QID number", _set("wikidata", 7747), ["field 'wikidata'"]),
    ("bad side", _set("side", "west"), ["field 'side'", "west"]),
    ("roles not a list", _set("roles", "minister"), ["field 'roles'"]),
    ("no aliases", _set("aliases", _DELETE), ["'Sergey Lavrov'", "field 'aliases'"]),
    ("aliases not a mapping", _set("aliases", ["Lavrov"]), ["field 'aliases'", "mapping"]),
    ("missing language", _set("aliases.uk", _DELETE),
     ["'Sergey Lavrov'", "field 'aliases'", "missing", "uk"]),
    ("unknown language", _set("aliases.it", ["Lavrov"]), ["field 'aliases'", "unknown language", "it"]),
    ("empty alias list", _set("aliases.de", []), ["field 'aliases.de'", "non-empty"]),
    ("alias not a string", _set("aliases.de", [42]), ["field 'aliases.de'", "42"]),
    ("blank alias", _set("aliases.de", [" "]), ["field 'aliases.de'"]),
    ("punctuation-only alias", _set("aliases.de", ["--"]), ["field 'aliases.de'", "no letter or digit"]),
    ("mixed scripts", _set("aliases.ru", ["Сергей Лавpов"]), ["field 'aliases.ru'", "Cyrillic and Latin"]),
    ("weak not a mapping", _set("weak", ["Lavrov"]), ["field 'weak'"]),
    ("weak unknown language", _set("weak", {"lt": ["Lavrovas"]}), ["field 'weak'", "lt"]),
    ("short forms empty list", _set("short_forms", {"fr": []}), ["field 'short_forms.fr'"]),
]


def _write(directory: Path, name: str, entities: list) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump({"entities": entities}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("case", "mutate", "fragments"), ENTITY_ERRORS, ids=[c[0] for c in ENTITY_ERRORS])
def test_entity_validation_errors_name_file_entity_and_field(tmp_path: Path, case, mutate, fragments) -> None:
    entity = copy.deepcopy(VALID)
    mutate(entity)
    path = _write(tmp_path, "people.yml", [entity])
    with pytest.raises(ConfigError) as error:
        load_gazetteer(path)
    message = str(error.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


FILE_ERRORS = [
    ("top-level list", "- name: x\n", ["expected a mapping with an 'entities:' list"]),
    ("unknown top-level key", "entities: []\nextra: 1\n", ["unknown top-level key", "extra"]),
    ("entities not a list", "entities: {a: 1}\n", ["'entities' must be a list"]),
    ("entry not a mapping", "entities: [Lavrov]\n", ["entities[0]", "expected a mapping"]),
    ("invalid YAML", "entities: [\n", ["invalid YAML"]),
]


@pytest.mark.parametrize(("case", "content", "fragments"), FILE_ERRORS, ids=[c[0] for c in FILE_ERRORS])
def test_file_validation_errors(tmp_path: Path, case, content, fragments) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_gazetteer(path)
    assert str(path) in str(error.value)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_duplicate_canonical_names_across_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yml", [VALID])
    renamed = {**copy.deepcopy(OTHER), "name": "SERGEY LAVROV"}  # same once folded
    _write(tmp_path, "b.yml", [renamed])
    with pytest.raises(ConfigError, match=r"b\.yml: entity 'SERGEY LAVROV': field 'name': duplicate.*a\.yml"):
        load_gazetteer(tmp_path)


def test_strong_alias_shared_by_two_entities(tmp_path: Path) -> None:
    other = copy.deepcopy(OTHER)
    other["aliases"]["en"] = ["LAVROV"]
    _write(tmp_path, "a.yml", [VALID, other])
    with pytest.raises(ConfigError, match=r"'Dmitry Peskov': field 'aliases.en': strong alias 'LAVROV' also "
                                          r"belongs to 'Sergey Lavrov'"):
        load_gazetteer(tmp_path)


def test_weak_overlaps_are_allowed(tmp_path: Path) -> None:
    other = copy.deepcopy(OTHER)
    other["weak"] = {"en": ["Lavrov"]}  # strong for one entity, weak for another: the tagger resolves it
    _write(tmp_path, "a.yml", [VALID, other])
    assert len(load_gazetteer(tmp_path)) == 2


def test_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_gazetteer(tmp_path / "nothing")
    with pytest.raises(ConfigError, match=r"no \*\.yml"):
        load_gazetteer(tmp_path)


def test_default_gazetteer_loads_and_covers_the_eval_corpus() -> None:
    gazetteer = load_gazetteer()
    assert len(gazetteer) >= 520
    assert {e.type for e in gazetteer.entities} == {"PER", "ORG", "LOC", "EVENT", "MISC"}
    gold = {name for article in CORPUS for name in article["entities"]}
    assert gold - set(gazetteer.by_name) == set()
    used = (ROOT / "eval" / "tagging" / "entities_used.txt").read_text(encoding="utf-8").split("\n")
    assert [line for line in used if line] == sorted(gold)


def test_loading_is_cached_and_the_automaton_built_once(tmp_path: Path) -> None:
    """A second load of unchanged files is the same object, automaton already compiled; a changed
    file is read again; ``build`` compiles once. (Load and build times: benchmarks.bench_tagging.)"""
    gazetteer = load_gazetteer(DEFAULT_GAZETTEER_DIR)
    assert load_gazetteer(DEFAULT_GAZETTEER_DIR) is gazetteer
    assert gazetteer._automaton is not None  # compiled by the load, not on first search

    fresh = Gazetteer(gazetteer.entities)
    assert fresh._automaton is None
    automaton = fresh.build()._automaton
    assert automaton is not None and fresh.build()._automaton is automaton
    text = fold("Sergueï Lavrov a rencontré le secrétaire général de l'Otan à Bruxelles.")
    assert list(fresh.search(text)) == list(gazetteer.search(text)) != []

    path = _write(tmp_path, "people.yml", [VALID])
    first = load_gazetteer(tmp_path)
    assert load_gazetteer(tmp_path) is first and load_gazetteer(path) is first  # keyed by the files read
    _write(tmp_path, "people.yml", [VALID, OTHER])  # a changed file: size and mtime differ
    second = load_gazetteer(tmp_path)
    assert second is not first and len(second) == 2 and len(first) == 1


def test_pickle_round_trip_rebuilds_the_automaton() -> None:
    gazetteer = load_gazetteer()
    copy_ = pickle.loads(pickle.dumps(gazetteer))
    text = fold("Sergueï Lavrov a rencontré le secrétaire général de l'Otan à Bruxelles.")
    assert list(copy_.search(text)) == list(gazetteer.search(text))
    assert len(pickle.dumps(gazetteer)) < 2_000_000


FOLD_CASES = [
    ("L’Otan", "l'otan"),
    ("d‘Ukraine", "d'ukraine"),
    ("Conseil Otan–Russie", "conseil otan-russie"),
    ("Conseil Otan — Russie", "conseil otan-russie"),
    ("Erdoğan", "erdogan"),
    ("ERDOGAN", "erdogan"),
    ("Sergueï", "sergue" + "i"),
    ("Straße", "strasse"),
    ("Suwałki", "suwałki"),  # ł is a letter of its own, not l with an accent
    ("Чёрное море", "черное море"),
    ("Київ", "киів"),  # ї -> і, й -> и (accent stripping)
    ("« Washington,  D.C. »", '"washington,d.c."'),
    ("  many   spaces\n\nhere ", "many spaces here"),
    ("Nato\u00adGipfel", "natogipfel"),  # soft hyphen dropped
]


@pytest.mark.parametrize(("text", "expected"), FOLD_CASES)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@pytest.mark.parametrize("article", CORPUS[::7], ids=lambda a: a["id"])
def test_fold_is_normalize_text_plus_accent_folding(article: dict) -> None:
    """Aliases and texts are folded alike: the dedup normalization, then accents stripped."""
    for part in (article["title"], article["text"]):
        assert fold(part) == _strip_accents(normalize_text(part))


@pytest.mark.parametrize("text", ["Straße ß x", "a\u00adb Straße", "e\u0301te d’Ukraine", "ﬁnal — ﬂag  « x »",
                                  *(a["text"] for a in CORPUS[::9])])
def test_offsets_map_back_to_the_original_character(text: str) -> None:
    folded, offsets = fold_with_offsets(text)
    for i, char in enumerate(folded):
        original = text[offsets.start(i)]
        assert char in fold(original) or (char == " " and original.isspace()), (i, char, original)


def test_languages_are_data(tmp_path: Path) -> None:
    """config/languages.yml lists the tagged languages; Polish is optional for entities."""
    from newsmon.tagging.gazetteer import LANGUAGES, REQUIRED_LANGUAGES, load_languages

    assert "pl" in LANGUAGES and "pl" not in REQUIRED_LANGUAGES
    assert set(REQUIRED_LANGUAGES) == {"fr", "en", "de", "es", "ru", "uk"}
    extra = tmp_path / "languages.yml"
    extra.write_text("languages:\n  en: {name: English, required: true}\n  lt: {name: Lithuanian}\n",
                     encoding="utf-8")
    assert load_languages(extra) == (("en", "lt"), ("en",))


@pytest.mark.parametrize(("content", "fragment"), [
    ("languages: []\n", "expected a mapping 'languages:'"),
    ("languages:\n  english: {required: true}\n", "language 'english': the key must be an ISO 639-1 code"),
    ("languages:\n  en: {required: yes please}\n", "language 'en': field 'required'"),
    ("languages:\n  en: {required: false}\n", "at least one language must be required"),
    ("languages:\n  en: {name: English, required: true, extra: 1}\n", "language 'en': expected"),
])
def test_languages_file_errors_name_the_file_and_field(tmp_path: Path, content: str, fragment: str) -> None:
    from newsmon.tagging.gazetteer import load_languages

    path = tmp_path / "languages.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_languages(path)
    assert str(path) in str(error.value) and fragment in str(error.value)


def test_polish_inflected_forms_are_tagged() -> None:
    from newsmon.tagging.entities import entities

    found = {e.entity for e in entities(
        "Władimir Putin spotkał się z Łukaszenką w Mińsku. Rosji zależy na osłabieniu Sojuszu "
        "Północnoatlantyckiego, powiedział Stoltenberg w Kijowie.", "Kreml grozi Polsce", "pl")}
    assert {"Vladimir Putin", "Alexander Lukashenko", "Minsk", "Russia", "NATO", "Jens Stoltenberg",
            "Kyiv", "Moscow Kremlin", "Poland"} <= found
