"""Entity tagging and NATO–Russia topic classification on the labelled corpus of ``eval/tagging``
(fictional articles written for this project: see eval/tagging/README.md).

Entities: per article, the set of canonical names the tagger counts (``newsmon.tagging.entities``,
weak and short forms only with context) against the gold set; precision, recall and F1 are
micro-averaged over articles. The corpus labels only its watch-list kinds, so predictions are
scored within that scope: every name used in gold (``entities_used.txt``), every person, every
state (``states.yml``) and every capital (``places.yml`` entries whose roles say "capital of").
The gazetteer also knows ministries, armed forces, offices, weapons, events and non-capital cities
that the corpus deliberately leaves untagged; those predictions are counted apart
(``out_of_scope``) and also reported unscoped (``unscoped_precision``).

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
from newsmon.tagging.gazetteer import DEFAULT_GAZETTEER_DIR, Gazetteer, load_gazetteer
from newsmon.tagging.topics import DEFAULT_TOPICS_DIR, classify, load_topics

EVAL_DIR = Path(__file__).resolve().parents[1] / "eval" / "tagging"
TOPIC = "nato_russia"
FLOORS = {"entity_f1": 0.90, "topic_precision": 0.95, "topic_recall": 0.90}


def scope(gazetteer: Gazetteer, eval_dir: Path = EVAL_DIR) -> set[str]:
    """The canonical names the corpus labels (see the module docstring)."""
    used = {line.strip() for line in (eval_dir / "entities_used.txt").read_text(encoding="utf-8").splitlines()
            if line.strip()}
    return used | {e.name for e in gazetteer.entities
                   if e.type == "PER" or Path(e.source).name == "states.yml"
                   or (Path(e.source).name == "places.yml" and any("capital of" in r for r in e.roles))}


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
    watched = scope(gazetteer, eval_dir)
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
