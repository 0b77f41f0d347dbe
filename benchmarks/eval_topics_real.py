"""Topic detection on real feed items (``../shared/corpus/real-feed-items``, labelled by hand).

Each item is tagged as the pipeline tags a feed entry: title + description, the language that
``detect_language`` finds (the label's language is not used). Scores, per language:
- ``nato_russia`` against the ``core`` label;
- ``russia_west`` (NATO–Russia or Russia–West security) against ``core`` + ``broad``;
- language identification against the item's language.

Nothing here is fitted: the topics are hand-written rules (``config/topics``), so the figures
are plain dev-set figures. The corpus is a development set; the project is also judged on real
items it has never seen.

    python -m benchmarks.eval_topics_real [--json] [--errors] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.eval_tagging import _prf as prf
from newsmon.articles.language import detect_language
from newsmon.tagging.gazetteer import load_gazetteer
from newsmon.tagging.topics import classify, load_topics

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-feed-items"
LANGS = ("en", "fr", "pl")
TARGETS = {"nato_russia": ("core",), "russia_west": ("core", "broad")}
FLOORS = {  # pinned by tests/test_eval_topics_real.py: a little under what this command measures
    ("nato_russia", "en"): (0.90, 0.95), ("nato_russia", "fr"): (0.95, 0.95),
    ("nato_russia", "pl"): (0.92, 0.90),
    ("russia_west", "en"): (0.90, 0.88), ("russia_west", "fr"): (0.88, 0.90),
    ("russia_west", "pl"): (0.93, 0.90),
}
"""(precision, recall) floors per (topic, language)."""


def load_items(corpus: Path = CORPUS) -> list[dict[str, Any]]:
    """The labelled items (``items.jsonl``)."""
    with (corpus / "items.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision, recall, f1 = prf(tp, fp, fn)
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
            "tp": tp, "fp": fp, "fn": fn}


def evaluate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Classify every item; metrics per topic and language, language agreement, the errors."""
    gazetteer = load_gazetteer()
    topics = [t for t in load_topics(gazetteer=gazetteer) if t.name in TARGETS]
    counts: dict[tuple[str, str], Counter[str]] = {}
    lang_ok: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for item in items:
        title, text = item["title"], item.get("description") or ""
        language = detect_language(f"{title}\n{text}").language
        lang_ok[item["lang"]] += language == item["lang"]
        results = classify(text, title, language, topics=topics, gazetteer=gazetteer)
        for name, gold_labels in TARGETS.items():
            if name not in results:
                continue
            gold = item["label"] in gold_labels
            got = results[name].matched
            kind = "tp" if gold and got else "fp" if got else "fn" if gold else "tn"
            counts.setdefault((name, item["lang"]), Counter())[kind] += 1
            if kind in ("fp", "fn"):
                errors.append({"topic": name, "error": kind, "id": item["id"], "lang": item["lang"],
                               "label": item["label"], "score": results[name].score,
                               "rules": [r["name"] for r in results[name].why.get("rules", [])],
                               "title": title, "text": text[:200]})
    per_language = {f"{name}/{lang}": _prf(c["tp"], c["fp"], c["fn"])
                    for (name, lang), c in sorted(counts.items())}
    totals = Counter(item["lang"] for item in items)
    return {"items": len(items), "topics": per_language,
            "language_accuracy": {lang: round(lang_ok[lang] / totals[lang], 3) for lang in sorted(totals)},
            "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder holding items.jsonl")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--errors", action="store_true", help="list the misclassified items")
    args = parser.parse_args(argv)
    if not (args.corpus / "items.jsonl").exists():
        print(f"eval_topics_real: {args.corpus} not found (the real-feed-items corpus lives in ../shared); "
              "skipped", file=sys.stderr)
        return 0
    result = evaluate(load_items(args.corpus))
    if args.json:
        print(json.dumps(result if args.errors else {k: v for k, v in result.items() if k != "errors"},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"real feed items: {result['items']} (title + description; language detected)")
    print(f"{'topic/lang':18} {'precision':>9} {'recall':>7} {'f1':>6}   tp  fp  fn")
    for key, m in result["topics"].items():
        print(f"{key:18} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f} {m['tp']:4d} {m['fp']:3d} "
              f"{m['fn']:3d}")
    accuracy = result["language_accuracy"]
    for (name, lang), (precision, recall) in FLOORS.items():
        m = result["topics"].get(f"{name}/{lang}")
        if m and (m["precision"] < precision or m["recall"] < recall):
            print(f"BELOW FLOOR: {name}/{lang} precision {m['precision']} (floor {precision}), "
                  f"recall {m['recall']} (floor {recall})")
    print("language identification: " + ", ".join(f"{k} {v:.3f}" for k, v in accuracy.items()))
    if args.errors:
        for e in result["errors"]:
            print(f"- {e['topic']} {e['error']} {e['id']} [{e['lang']}, {e['label']}, {e['score']:.2f}, "
                  f"{','.join(e['rules'])}] {e['title']} | {e['text'][:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
