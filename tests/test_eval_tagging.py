"""Evaluation gate for entity tagging and NATO–Russia topic classification on the labelled corpus of
eval/tagging (fictional articles written for this project), through the gazetteer, the tagger and
the topic configuration as shipped."""

from __future__ import annotations

from benchmarks.eval_tagging import FLOORS, evaluate


def test_tagging_quality_floors() -> None:
    """Pinned floors (FLOORS, a little under what `python -m benchmarks.eval_tagging` measures) on >= 60
    articles in French, English and German."""
    result = evaluate()
    assert result["articles"] >= 60
    assert result["gold_names_missing_from_gazetteer"] == []
    assert set(result["entity"]["by_language"]) == {"fr", "en", "de"}
    assert result["entity"]["f1"] >= FLOORS["entity_f1"], result["errors"]["entities"]
    # precision also when every entity outside the policy's scope (ministries, offices, weapons,
    # non-capital cities) counts as a false positive
    assert result["entity"]["unscoped_precision"] >= FLOORS["entity_unscoped_precision"]
    assert result["topic"]["precision"] >= FLOORS["topic_precision"], result["errors"]["topics"]
    assert result["topic"]["recall"] >= FLOORS["topic_recall"], result["errors"]["topics"]
    # every kind of positive is found and every kind of hard negative kept apart
    accuracy = result["accuracy_by_kind"]
    assert all(value >= FLOORS["topic_accuracy_per_kind"] for value in accuracy.values()), accuracy


def test_scope_comes_from_the_policy_not_the_gold() -> None:
    """The scoring scope is decided by entity kind: a state, a capital, a person and an international
    body are in; a ministry, a weapon and a non-capital city are out, whatever the gold uses."""
    from benchmarks.eval_tagging import in_policy_scope
    from newsmon.tagging.gazetteer import load_gazetteer

    by_name = load_gazetteer().by_name
    inside = ["Russia", "Vilnius", "Jens Stoltenberg", "North Atlantic Council", "New START", "Baltic Sea",
              "Moscow Kremlin"]
    outside = ["Ministry of Defence (Russia)", "9K720 Iskander", "Kharkiv", "Secretary General of NATO"]
    assert [n for n in inside if not in_policy_scope(by_name[n])] == []
    assert [n for n in outside if in_policy_scope(by_name[n])] == []
