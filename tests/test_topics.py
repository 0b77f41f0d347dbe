"""Topic configuration (validation, data-driven), topic scoring cases, term matching and YAKE key
phrases."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from newsmon.core.errors import ConfigError
from newsmon.tagging.entities import tag
from newsmon.tagging.gazetteer import load_gazetteer
from newsmon.tagging.keywords import Concept, TermIndex, key_phrases, term_hits
from newsmon.tagging.topics import DEFAULT_TOPICS_DIR, classify, load_topics, parse_topic, score

GAZETTEER = load_gazetteer()
NATO_RUSSIA = next(t for t in load_topics(gazetteer=GAZETTEER) if t.name == "nato_russia")


def _score(text: str, title: str | None = None, language: str = "en"):
    return classify(text, title, language, [NATO_RUSSIA], GAZETTEER)["nato_russia"]


# (case, language, title, text, matched)
SCORING_CASES = [
    ("NATO and Russia in one incident", "en", "NATO jets intercept Russian bombers over the Baltic",
     "NATO fighters intercepted two Russian bombers near Estonian airspace on Monday. "
     "Moscow called the interception a provocation. NATO Secretary General Mark Rutte said the "
     "Alliance would defend every inch of allied territory.", True),
    ("NATO only as 'the Alliance' (implicit)", "en", "Russian jets violate Estonian airspace",
     "Three Russian MiG-31 jets entered Estonian airspace and were escorted out by Italian F-35s flying "
     "for the Alliance's air policing mission. The Kremlin denied any violation. "
     "\"The Alliance will defend every inch of allied territory,\" the Alliance's secretary general said.",
     True),
    ("French implicit: l'Alliance atlantique", "fr", "L'Alliance atlantique répond à Moscou",
     "Les chasseurs de l'Alliance atlantique ont intercepté deux bombardiers russes. Le Kremlin a dénoncé "
     "une provocation. La Russie teste la dissuasion de l'Alliance, selon un officier.", True),
    ("German: das westliche Verteidigungsbündnis", "de", "Bündnis berät über Antwort an Moskau",
     "Die Botschafter des westlichen Verteidigungsbündnisses berieten über Sabotage in Polen. "
     "Russland wies alle Vorwürfe zurück. Die Allianz werde die Abschreckung verstärken, sagte Rutte.", True),
    ("Ukraine war, NATO once in passing", "en", "Russian glide bombs hit Kharkiv",
     "Russian glide bombs struck Kharkiv on Thursday, killing six people, as Ukraine reported heavy fighting "
     "in the Donbas. Russia's Defence Ministry said it had hit military infrastructure. Rescue workers "
     "searched the rubble. Some of the generators in the shelters were funded through a NATO trust fund.",
     False),
    ("NATO business without Russia", "en", "NATO approves a bigger budget",
     "NATO allies approved a civil budget of 498 million euros in Brussels. NATO Secretary General Mark "
     "Rutte said the deterrence and defence posture required more staff.", False),
    ("Russia in sport without NATO", "en", "CSKA win the Gagarin Cup",
     "MOSCOW - CSKA Moscow won the Gagarin Cup. The KHL, Russia's top league, also includes clubs from "
     "Belarus and Kazakhstan. Russian fans celebrated in the capital.", False),
    ("Russia and a NATO member, not NATO", "en", "Germany and Russia trade barbs",
     "Germany's foreign minister accused Russia of sabotage. Moscow rejected the claims and warned of "
     "countermeasures against Berlin.", False),
    ("nothing relevant", "en", "Storm brings floods", "Storm Imogen brought floods to London.", False),
]


@pytest.mark.parametrize(("case", "language", "title", "text", "matched"), SCORING_CASES,
                         ids=[c[0] for c in SCORING_CASES])
def test_scoring_cases(case, language, title, text, matched) -> None:
    result = _score(text, title, language)
    assert result.matched is matched, json.dumps(result.why, ensure_ascii=False, indent=1)
    assert 0.0 <= result.score <= 1.0
    json.dumps(result.why)  # JSON-serializable


def test_missing_group_scores_zero_and_says_why() -> None:
    result = _score("NATO allies approved a budget in Brussels.", "NATO budget")
    assert result.score == 0 and not result.matched
    assert result.why["missing_groups"] == ["russia"]
    assert result.why["components"]["nato"]["evidence"] > 0


def test_why_lists_entities_terms_cooccurrence_and_components() -> None:
    title = "NATO warns Russia"
    text = "Russian bombers entered NATO airspace. Nothing else happened. The Kremlin denied it."
    result = _score(text, title)
    why = result.why
    assert why["cooccurring_units"] == [{"in_title": True, "sentence": 0}, {"in_title": False, "sentence": 0}]
    nato = [(e["entity"], e["surface"], e["in_title"], e["sentence"]) for e in why["entities"]["nato"]]
    assert nato == [("NATO", "NATO", True, 0), ("NATO", "NATO", False, 0)]
    assert {e["entity"] for e in why["entities"]["russia"]} == {"Russia", "Moscow Kremlin"}
    assert why["terms"]["airspace_violation"]["hits"][0] == {"term": "airspace", "surface": "airspace",
                                                            "sentence": 0, "in_title": False}
    parts = why["components"]
    assert set(parts) == {"nato", "russia", "cooccurrence", "terms"}
    assert why["weighted_score"] == pytest.approx(sum(p["contribution"] for p in parts.values()), abs=1e-3)
    assert why["rules"][0]["name"] == "nato_and_russia"
    assert why["rules"][0]["evidence"]["nato"] == ["NATO"]
    assert result.score == max(why["weighted_score"], why["rules"][0]["weight"])
    assert parts["cooccurrence"]["evidence"] == NATO_RUSSIA.title_weight + 1


def test_title_weight() -> None:
    body = "Russia protested. Later, NATO answered."
    in_body = _score(body, "Statement")
    in_title = _score(body, "NATO and Russia")
    assert in_title.why["weighted_score"] > in_body.why["weighted_score"]
    assert in_title.why["components"]["nato"]["evidence"] == 1 + NATO_RUSSIA.title_weight


def test_score_takes_mentions_and_term_hits() -> None:
    text = "NATO and Russia agreed to restore a military hotline to avoid escalation."
    mentions = tag(text, None, "en", GAZETTEER)
    hits = term_hits(NATO_RUSSIA.terms, text, None, "en")
    assert {h.concept for h in hits if h.weight > 0} == {"de_escalation"}
    assert {h.concept for h in hits if h.weight == 0} == {"nato_names", "russia_names"}  # rule evidence
    result = score(mentions, hits, NATO_RUSSIA)
    assert result == _score(text)


def test_several_topics(tmp_path: Path) -> None:
    arctic = {
        "name": "arctic", "threshold": 0.4, "groups": {"arctic": {"weight": 0.5, "saturation": 1,
                                                                  "entities": ["Arctic"]}},
        "cooccurrence": {"weight": 0.0, "saturation": 1},
        "terms": {"weight": 0.5, "saturation": 1, "concepts": {"ice": {
            "weight": 1, **{lang: ["ice*"] for lang in ("en", "fr", "de", "es", "ru", "uk")}}}},
    }
    (tmp_path / "arctic.yml").write_text(yaml.safe_dump(arctic), encoding="utf-8")
    shipped = (DEFAULT_TOPICS_DIR / "nato_russia.yml").read_text(encoding="utf-8")
    (tmp_path / "nato_russia.yml").write_text(shipped, encoding="utf-8")
    topics = load_topics(tmp_path, GAZETTEER)
    results = classify("Sea ice is melting fast in the Arctic.", None, "en", topics, GAZETTEER)
    assert set(results) == {"arctic", "nato_russia"}
    assert results["arctic"].matched and not results["nato_russia"].matched


# ---------------------------------------------------------------------------- configuration errors

BASE = yaml.safe_load((DEFAULT_TOPICS_DIR / "nato_russia.yml").read_text(encoding="utf-8"))


def _mutate(path: str, value: object):
    def apply(data: dict) -> None:
        keys = path.split(".")
        for key in keys[:-1]:
            data = data[key]
        if value is None:
            del data[keys[-1]]
        else:
            data[keys[-1]] = value
    return apply


TOPIC_ERRORS = [
    ("unknown field", _mutate("treshold", 0.5), ["unknown field", "treshold"]),
    ("bad name", _mutate("name", "NATO Russia"), ["field 'name'"]),
    ("missing threshold", _mutate("threshold", None), ["field 'threshold' is required"]),
    ("threshold zero", _mutate("threshold", 0), ["field 'threshold'", "(0, 1]"]),
    ("threshold above one", _mutate("threshold", 1.5), ["field 'threshold'"]),
    ("threshold not a number", _mutate("threshold", "high"), ["field 'threshold'", "number"]),
    ("title weight below one", _mutate("title_weight", 0.5), ["field 'title_weight'"]),
    ("unknown mention kind", _mutate("mention_weights", {"strong": 1, "fuzzy": 1}),
     ["mention_weights", "fuzzy"]),
    ("require not a bool", _mutate("require_all_groups", "yes"), ["require_all_groups"]),
    ("weights do not add up", _mutate("groups.nato.weight", 0.5), ["must add up to 1"]),
    ("group without entities", _mutate("groups.russia", {"weight": 0.15, "saturation": 3}),
     ["group 'russia'", "needs 'entities'"]),
    ("unknown side", _mutate("groups.russia.sides", ["east"]), ["group 'russia'", "unknown side", "east"]),
    ("unknown entity", _mutate("groups.nato.entities", ["NATO", "Nato Russia Council"]),
     ["group 'nato'", "not in the gazetteer", "Nato Russia Council"]),
    ("unknown group field", _mutate("groups.nato.weigth", 1), ["group 'nato'", "weigth"]),
    ("zero saturation", _mutate("groups.nato.saturation", 0), ["group 'nato'", "saturation"]),
    ("concept missing a language", _mutate("terms.concepts.sanctions.uk", None),
     ["concept 'sanctions'", "missing language", "uk"]),
    ("concept empty list", _mutate("terms.concepts.sanctions.uk", []),
     ["concept 'sanctions'", "empty term list"]),
    ("star inside a term", _mutate("terms.concepts.sanctions.de", ["Sank*tion"]),
     ["concept 'sanctions'", "'*'"]),
    ("concept unknown field", _mutate("terms.concepts.sanctions.it", ["sanzioni"]),
     ["concept 'sanctions'", "it"]),
    ("no concepts", _mutate("terms.concepts", {}), ["terms.concepts"]),
]


@pytest.mark.parametrize(("case", "mutate", "fragments"), TOPIC_ERRORS, ids=[c[0] for c in TOPIC_ERRORS])
def test_topic_validation_errors(tmp_path: Path, case, mutate, fragments) -> None:
    data = copy.deepcopy(BASE)
    mutate(data)
    path = tmp_path / "topic.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_topics(path, GAZETTEER)
    message = str(error.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_duplicate_topic_names(tmp_path: Path) -> None:
    for name in ("a.yml", "b.yml"):
        (tmp_path / name).write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b\.yml: topic 'nato_russia': field 'name': duplicate"):
        load_topics(tmp_path)


def test_entity_names_are_checked_only_with_a_gazetteer() -> None:
    data = copy.deepcopy(BASE)
    data["groups"]["nato"]["entities"].append("No Such Entity")
    assert parse_topic(data, "<test>").name == "nato_russia"
    with pytest.raises(ConfigError, match="No Such Entity"):
        parse_topic(data, "<test>", GAZETTEER)


# ---------------------------------------------------------------------------- terms and key phrases

INDEX = TermIndex([
    Concept("sanctions", 1.0, {"de": ("Sanktion*",), "en": ("sanctions",), "fr": ("sanction*",)}),
    Concept("airspace", 0.5, {"fr": ("espace aérien",), "en": ("airspace",)}),
])

TERM_CASES = [
    ("de", "Neue Sanktionen und ein Sanktionspaket.",
     [("sanctions", "Sanktionen"), ("sanctions", "Sanktionspaket")]),
    ("fr", "L’espace aérien et les sanctions.", [("airspace", "espace aérien"), ("sanctions", "sanctions")]),
    ("fr", "L'ESPACE AERIEN.", [("airspace", "ESPACE AERIEN")]),
    ("en", "Airspace sanctions; sanctionsbusting.", [("airspace", "Airspace"), ("sanctions", "sanctions")]),
    ("en", "Espace aérien.", []),  # French terms are not looked for in English
    (None, "Espace aérien, airspace.", [("airspace", "Espace aérien"), ("airspace", "airspace")]),
]


@pytest.mark.parametrize(("language", "text", "expected"), TERM_CASES)
def test_term_matching(language, text, expected) -> None:
    hits = term_hits(INDEX, text, None, language)
    assert [(h.concept, h.surface) for h in hits] == expected
    for hit in hits:
        assert text[hit.start:hit.end] == hit.surface


PHRASE_TEXTS = {
    "en": "NATO and Russia agreed to restore a military hotline between their commands to reduce the risk of "
          "accidents after a Russian fighter came close to an allied surveillance plane over the Baltic Sea.",
    "fr": "Des chasseurs de l'Otan ont intercepté mercredi deux avions de reconnaissance russes qui volaient "
          "sans plan de vol au-dessus de la mer Baltique, à proximité de l'espace aérien lituanien.",
    "de": "Verteidigungsminister Boris Pistorius hat die in Litauen stationierte Panzerbrigade der "
          "Bundeswehr als klares Signal an Moskau bezeichnet. Die Brigade soll bis Ende 2027 anwachsen.",
    "es": "La OTAN interceptó dos bombarderos rusos cerca del espacio aéreo de Estonia, y el Kremlin negó "
          "cualquier violación del espacio aéreo de la Alianza.",
    "ru": "Министр иностранных дел России Сергей Лавров заявил, что расширение НАТО на восток угрожает "
          "безопасности России и всей Европы.",
    "uk": "Міністр закордонних справ України заявив, що розширення НАТО є гарантією безпеки для всієї "
          "Європи та для України.",
}
STOP = {"en": {"the", "a", "to", "of", "and"}, "fr": {"de", "la", "le", "des", "à"},
        "de": {"die", "der", "als", "an", "bis"}, "es": {"la", "de", "del", "el", "y"},
        "ru": {"что", "на", "и", "в"}, "uk": {"що", "є", "для", "та"}}


@pytest.mark.parametrize("language", sorted(PHRASE_TEXTS))
def test_key_phrases(language: str) -> None:
    text = PHRASE_TEXTS[language]
    phrases = key_phrases(text, language, top=5)
    assert 0 < len(phrases) <= 5
    assert phrases == key_phrases(text, language, top=5)  # deterministic
    assert [score for _, score in phrases] == sorted(score for _, score in phrases)
    for phrase, value in phrases:
        assert isinstance(phrase, str) and isinstance(value, float)
        words = phrase.lower().split()
        assert words[0] not in STOP[language] and words[-1] not in STOP[language], phrase


def test_key_phrases_edge_cases() -> None:
    assert key_phrases("", "en") == []
    assert key_phrases("Some text here about things.", "en", top=0) == []
    assert key_phrases("Tekst o polityce obronnej Polski i NATO na wschodniej flance.", "xx", top=3)
    assert not any(p.startswith(("l'", "l’")) for p, _ in key_phrases(PHRASE_TEXTS["fr"], "fr"))


# ---------------------------------------------------------------------------- rules (short texts)

RULE_CASES = [
    # (case, language, title, text, nato_russia matched, rule expected to fire or None)
    ("feed item: NATO and Russia", "en", "NATO warns Moscow over missile deployment", "", True,
     "nato_and_russia"),
    ("feed item: NATO in the war", "en", "How much have NATO members spent on Ukraine?",
     "Allies have committed billions since the invasion.", True, "nato_in_the_war"),
    ("feed item: eastern flank, Russia implicit", "fr", "L'OTAN renforce son flanc est",
     "Des bataillons supplémentaires seront déployés.", True, "nato_posture"),
    ("feed item: Nordic accession without NATO named", "en", "Turkish parliament ratifies Finland's bid", "",
     True, "nordic_accession"),
    ("feed item: Russian drones in a member's airspace", "pl", "Rosyjskie drony nad Polską",
     "Obiekty naruszyły polską przestrzeń powietrzną w nocy.", True, "russian_incursion_into_a_member"),
    ("feed item: Polish, NATO and Russia inflected", "pl", "Stoltenberg ostrzega Rosję",
     "Sekretarz generalny Sojuszu Północnoatlantyckiego rozmawiał o zagrożeniu ze strony Kremla.", True,
     "nato_and_russia"),
    ("NATO and China, no Russia", "en", "China raises alarm over NATO expansion in Asia",
     "Beijing criticised the alliance's membership plans.", False, None),
    ("another alliance with Russia", "en", "Putin and Kim cement their alliance", "", False, None),
    ("allies of a country, not NATO", "en", "Ukraine's allies pledge tanks", "Kyiv welcomed the offer.",
     False, None),
    ("NATO budget, no Russia", "en", "NATO approves its civil budget", "Allies agreed the figures.",
     False, None),
]


@pytest.mark.parametrize(("case", "language", "title", "text", "matched", "rule"), RULE_CASES,
                         ids=[c[0] for c in RULE_CASES])
def test_rules_on_short_items(case, language, title, text, matched, rule) -> None:
    result = _score(text, title, language)
    fired = [r["name"] for r in result.why["rules"]]
    assert result.matched is matched, json.dumps(result.why["rules"], ensure_ascii=False)
    if rule:
        assert rule in fired
        evidence = next(r["evidence"] for r in result.why["rules"] if r["name"] == rule)
        assert all(evidence.values())  # every signal names the words that were found
    else:
        assert fired == []


def test_rules_read_only_the_lead() -> None:
    """In a long article, NATO and Russia named only after the lead do not fire a rule."""
    body = " ".join(["Farmers met in the valley to discuss the harvest."] * 4)
    late = body + " NATO and Russia were mentioned by a speaker."
    assert _score(late, "Harvest festival opens").why["rules"] == []
    early = "NATO and Russia were mentioned by a speaker. " + body
    assert [r["name"] for r in _score(early, "Harvest festival opens").why["rules"]] == ["nato_and_russia"]


def test_case_sensitive_concepts() -> None:
    index = TermIndex([Concept("nato_weak", 0.0, {"en": ("Alliance",)}, case_sensitive=True),
                       Concept("word", 1.0, {"en": ("alliance",)})])
    capital = {h.concept for h in index.find("The Alliance met.", "en")}
    lower = {h.concept for h in index.find("a new alliance was formed", "en")}
    assert capital == {"nato_weak", "word"} and lower == {"word"}


def test_a_term_of_several_concepts_counts_for_each() -> None:
    index = TermIndex([Concept("members", 0.0, {"en": ("Finland",)}),
                       Concept("nordic", 0.0, {"en": ("Finland",)})])
    hits = index.find("Finland joined.", "en")
    assert sorted(h.concept for h in hits) == ["members", "nordic"]
    assert {h.surface for h in hits} == {"Finland"}


def test_broad_topic_includes_the_narrow_one() -> None:
    topics = load_topics(gazetteer=GAZETTEER)
    results = classify("", "Turkish parliament ratifies Finland's bid", "en", topics, GAZETTEER)
    assert results["nato_russia"].matched
    assert results["russia_west"].matched
    assert results["russia_west"].why["included"]["topic"] == "nato_russia"
    sport = classify("Fans cheered in the capital.", "Russian hockey club wins the cup", "en", topics,
                     GAZETTEER)
    assert not sport["russia_west"].matched and not sport["nato_russia"].matched


def _minimal_topic(**extra) -> dict:
    return {"name": "t", "threshold": 0.5,
            "groups": {"g": {"weight": 0.5, "saturation": 1, "entities": ["NATO"]}},
            "cooccurrence": {"weight": 0.0, "saturation": 1},
            "terms": {"weight": 0.5, "saturation": 1, "concepts": {"c": {
                "weight": 1, **{lang: ["ice*"] for lang in ("en", "fr", "de", "es", "ru", "uk")}}}},
            **extra}


@pytest.mark.parametrize(("extra", "fragment"), [
    ({"signals": {"s": {"groups": ["nope"]}}, "rules": [{"name": "r", "all": ["s"], "weight": 1}]},
     "signal 's': field 'groups': unknown group(s) ['nope']"),
    ({"signals": {"s": {"concepts": ["c"]}}, "rules": [{"name": "r", "all": ["x"], "weight": 1}]},
     "rule 'r': field 'all': unknown signal(s) ['x']"),
    ({"signals": {"s": {"concepts": ["c"]}}, "rules": [{"name": "r", "all": ["s"], "weight": 2}]},
     "rule 'r': field 'weight'"),
    ({"signals": {"s": {"concepts": ["c"]}},
      "rules": [{"name": "r", "all": ["s"], "none": ["y"], "weight": 1}]},
     "rule 'r': field 'none': unknown signal(s) ['y']"),
    ({"signals": {"s": {"concepts": ["c"], "weak": "no"}}}, "signal 's': field 'weak'"),
    ({"rules": [{"name": "r", "all": ["s"], "weight": 1}]}, "field 'signals': rules need signals"),
    ({"lead_sentences": 0}, "field 'lead_sentences'"),
])
def test_rule_validation_names_the_field(extra: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_topic(_minimal_topic(**extra), "topics/t.yml", GAZETTEER)
    assert "topics/t.yml: topic 't'" in str(error.value) and fragment in str(error.value)


def test_unknown_included_topic(tmp_path: Path) -> None:
    (tmp_path / "t.yml").write_text(yaml.safe_dump(_minimal_topic(includes=["missing"])), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"t\.yml: topic 't': field 'includes': unknown topic"):
        load_topics(tmp_path, GAZETTEER)
