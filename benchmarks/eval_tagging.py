"""Entity tagging and NATO–Russia topic classification on the labelled corpus of ``eval/tagging``
(fictional articles written for this project: see eval/tagging/README.md).

Entities: per article, the set of canonical names the tagger counts (``newsmon.tagging.entities``,
weak and short forms only with context) against the gold set; precision, recall and F1 are
micro-averaged over articles. The corpus labels the kinds its labelling policy names (README:
countries, international organisations and their bodies, heads of state and government,
ministers and officials, capitals, strategic regions, treaties), so predictions are scored within
that scope, decided from each entity's type, file and roles (``in_policy_scope``), never from the
gold labels. Predictions outside it (ministries, armed forces, offices, weapons, programmes,
non-capital cities) are counted apart (``out_of_scope``) and also scored unscoped
(``unscoped_precision``, gated too).

Topics: ``topics.nato_russia`` against ``newsmon.tagging.topics.classify``; precision, recall and the
accuracy per ``kind`` of article.

    python -m benchmarks.eval_tagging [--json] [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

from newsmon.tagging.entities import entities, tag
from newsmon.tagging.gazetteer import DEFAULT_GAZETTEER_DIR, Entity, Gazetteer, load_gazetteer
from newsmon.tagging.topics import DEFAULT_TOPICS_DIR, classify, load_topics

EVAL_DIR = Path(__file__).resolve().parents[1] / "eval" / "tagging"
TOPIC = "nato_russia"
FLOORS = {"entity_f1": 0.96, "entity_unscoped_precision": 0.86, "topic_precision": 0.97, "topic_recall": 0.97,
          "topic_accuracy_per_kind": 0.95}
"""A little under what this command measures (entity F1 0.976, unscoped precision 0.877, topic 1.000)."""


_NATIONAL = ("ministry", "armed forces", "department", "intelligence", "security service", "parliament",
             "legislature", "presidency", "prime minister's office", "chancellery", "state news agency",
             "state gas", "state nuclear", "broadcaster", "navy fleet", "military company", "military (",
             "general staff", "presidential", "command for europe", "staff supporting", "military$")
_TREATY = ("treaty", "convention", "memorandum", "final act", "founding act", "document", "clause",
           "agreements", "package of measures", "agreement")


def in_policy_scope(entity: Entity) -> bool:
    """Is ``entity`` of a kind the corpus's labelling policy covers (eval/tagging/README.md: countries,
    international organisations and their bodies, heads of state and government, ministers and
    senior officials, spokespeople, ambassadors, capital cities, strategic regions, treaties)?
    Decided from the entity's type, file and roles, never from the gold labels."""
    file = Path(entity.source).name
    roles = " ".join(entity.roles).lower()
    if entity.type == "PER" or file == "states.yml":
        return True
    if file == "places.yml":  # capitals and regions, seas, straits; not other cities, works or islands
        if "capital of" in roles:
            return True
        return not any(w in roles for w in ("city", "town", "port", "steelworks", "island", "bridge",
                                             "plant"))
    if entity.type == "ORG":  # international organisations and their bodies, seats of power (metonyms);
        #                       not national ministries, forces, services, parliaments, companies, media
        if "metonym" in roles:
            return True
        return not any(roles.rstrip() == w.rstrip("$") if w.endswith("$") else w in roles for w in _NATIONAL)
    if entity.type == "MISC":  # treaties and their articles; not offices, programmes or weapons
        return any(w in roles for w in _TREATY) and "office" not in roles
    return False


def scope(gazetteer: Gazetteer) -> set[str]:
    """The canonical names the corpus labels, by the labelling policy (see :func:`in_policy_scope`)."""
    return {e.name for e in gazetteer.entities if in_policy_scope(e)}


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(eval_dir: Path = EVAL_DIR, gazetteer_dir: Path = DEFAULT_GAZETTEER_DIR,
             topics_dir: Path = DEFAULT_TOPICS_DIR) -> dict:
    """Score every article; return entity and topic metrics, per-kind accuracy and the errors."""
    articles = yaml.safe_load((eval_dir / "corpus.yml").read_text(encoding="utf-8"))["articles"]
    gazetteer = load_gazetteer(gazetteer_dir)
    topics = [t for t in load_topics(topics_dir, gazetteer) if t.name == TOPIC]
    watched = scope(gazetteer)
    missing_names = sorted({n for a in articles for n in a["entities"]} - set(gazetteer.by_name))
    e_tp = e_fp = e_fn = raw_fp = 0
    t_tp = t_fp = t_fn = t_tn = 0
    by_kind: Counter[str] = Counter()
    right_by_kind: Counter[str] = Counter()
    lang_counts: dict[str, Counter[str]] = {}
    out_of_scope: Counter[str] = Counter()
    entity_errors, topic_errors = [], []
    for article in articles:
        mentions = tag(article["text"], article["title"], article["lang"], gazetteer)
        predicted_all = {e.entity for e in entities(mentions=mentions)}
        predicted = predicted_all & watched
        out_of_scope.update(predicted_all - watched)
        gold = set(article["entities"])
        tp, fp, fn = len(predicted & gold), len(predicted - gold), len(gold - predicted)
        e_tp, e_fp, e_fn = e_tp + tp, e_fp + fp, e_fn + fn
        raw_fp += len(predicted_all - gold)
        counts = lang_counts.setdefault(article["lang"], Counter())
        counts.update(tp=tp, fp=fp, fn=fn)
        if fp or fn:
            entity_errors.append({"id": article["id"], "kind": article["kind"],
                                  "missed": sorted(gold - predicted),
                                  "false_alarms": sorted(predicted - gold)})
        result = classify(article["text"], article["title"], article["lang"], topics, gazetteer,
                          mentions=mentions)[TOPIC]
        truth = bool(article["topics"][TOPIC])
        t_tp += result.matched and truth
        t_fp += result.matched and not truth
        t_fn += truth and not result.matched
        t_tn += not truth and not result.matched
        by_kind[article["kind"]] += 1
        right_by_kind[article["kind"]] += result.matched == truth
        if result.matched != truth:
            components = {k: v["contribution"] for k, v in result.why["components"].items()}
            topic_errors.append({"id": article["id"], "kind": article["kind"], "truth": truth,
                                 "score": result.score, "components": components,
                                 "missing_groups": result.why["missing_groups"]})
    precision, recall, f1 = _prf(e_tp, e_fp, e_fn)
    t_precision, t_recall, _ = _prf(t_tp, t_fp, t_fn)
    return {
        "articles": len(articles),
        "gold_names_missing_from_gazetteer": missing_names,
        "entity": {"tp": e_tp, "fp": e_fp, "fn": e_fn, "precision": precision, "recall": recall, "f1": f1,
                   "unscoped_precision": e_tp / (e_tp + raw_fp) if e_tp + raw_fp else 1.0,
                   "out_of_scope": dict(out_of_scope.most_common()),
                   "by_language": {lang: dict(zip(("precision", "recall", "f1"),
                                                  (round(x, 3) for x in _prf(c["tp"], c["fp"], c["fn"])),
                                                  strict=True))
                                   for lang, c in sorted(lang_counts.items())}},
        "topic": {"tp": t_tp, "fp": t_fp, "fn": t_fn, "tn": t_tn,
                  "precision": t_precision, "recall": t_recall},
        "accuracy_by_kind": {k: round(right_by_kind[k] / n, 3) for k, n in sorted(by_kind.items())},
        "errors": {"entities": entity_errors, "topics": topic_errors},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list misses and false alarms")
    args = parser.parse_args(argv)
    result = evaluate()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    e, t = result["entity"], result["topic"]
    print(f"tagging eval on {result['articles']} articles (eval/tagging)")
    print(f"  entities: precision {e['precision']:.3f}, recall {e['recall']:.3f}, F1 {e['f1']:.3f} "
          f"(tp {e['tp']}, fp {e['fp']}, fn {e['fn']}); unscoped precision {e['unscoped_precision']:.3f}; "
          f"floor F1 {FLOORS['entity_f1']}")
    for lang, scores in e["by_language"].items():
        print(f"    {lang}: P {scores['precision']:.3f} R {scores['recall']:.3f} F1 {scores['f1']:.3f}")
    print(f"  topic {TOPIC}: precision {t['precision']:.3f}, recall {t['recall']:.3f} "
          f"(tp {t['tp']}, fp {t['fp']}, fn {t['fn']}, tn {t['tn']}); "
          f"floors: precision {FLOORS['topic_precision']}, recall {FLOORS['topic_recall']}")
    for kind, accuracy in result["accuracy_by_kind"].items():
        print(f"    {kind:22s} {accuracy:.3f}")
    if result["gold_names_missing_from_gazetteer"]:
        print("  gold names missing from the gazetteer:", result["gold_names_missing_from_gazetteer"])
    if args.errors:
        for error in result["errors"]["entities"]:
            print(f"  {error['id']} ({error['kind']}): missed {error['missed']}, "
                  f"false alarms {error['false_alarms']}")
        for error in result["errors"]["topics"]:
            print("  topic wrong:", error)
        print("  out of scope (not labelled by the corpus):", e["out_of_scope"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
