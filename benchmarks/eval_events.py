"""Pairwise precision and recall of "same event", for same-language and cross-language pairs
separately, on two sets:

- ``eval/events/articles.yml``: articles written for this project (see its README), gold event
  per article, hard negatives included;
- the real feed items of ``../shared/corpus/real-feed-items`` on the days several languages
  covered, with the event labels of ``eval/events/real_items.yml`` (item ids only; skipped
  when the corpus is absent).

Every article runs through the real tagging (``annotate``) and the real event assignment
(``newsmon.events.cluster.assign``, in memory, in time order, in batches like the pipeline).
Each article is its own story here (no two of them are copies).

    python -m benchmarks.eval_events [--json] [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from newsmon.events.cluster import MemoryBackend, Params, assign
from newsmon.events.evidence import StoryEvidence, story_evidence
from newsmon.tagging.annotation import annotate
from newsmon.tagging.entities import default_gazetteer
from newsmon.tagging.topics import load_topics

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT / "eval" / "events"
REAL_ITEMS = ROOT.parent / "shared" / "corpus" / "real-feed-items" / "items.jsonl"
BATCH = 25  # stories per assignment call, in time order


def _evidence(story_id: int, at: datetime, lang: str, title: str, text: str) -> StoryEvidence:
    gazetteer = default_gazetteer()
    result = annotate(text, title, lang, gazetteer=gazetteer, topics=load_topics(gazetteer=gazetteer),
                      phrases=0)
    terms = [(kw, score) for kind, kw, score in result.keywords if kind == "term"]
    topics = {name: (t["score"], t["matched"]) for name, t in result.topics.items()}
    return story_evidence(story_id, at, lang, title, text, result.entities, terms, topics)


def cluster(docs: Sequence[dict[str, Any]], params: Params | None = None) -> dict[str, int]:
    """Assign ``docs`` (id, lang, at, title, text) to events; {doc id: event id}."""
    evidence = [_evidence(n, d["at"], d["lang"], d["title"], d["text"]) for n, d in enumerate(docs, 1)]
    evidence.sort(key=lambda e: (e.seen_at, e.story_id))
    backend = MemoryBackend()
    for start in range(0, len(evidence), BATCH):
        assign(evidence[start:start + BATCH], backend, params)
    return {d["id"]: backend.event_of[n] for n, d in enumerate(docs, 1)}


def pairwise(docs: Sequence[dict[str, Any]], gold: dict[str, str], predicted: dict[str, int]
             ) -> dict[str, Any]:
    """Pairwise P/R of "same event", same-language and cross-language pairs apart, with the errors."""
    counts = {"same_language": [0, 0, 0], "cross_language": [0, 0, 0]}  # tp, fp, fn
    errors: list[dict[str, Any]] = []
    for a, b in combinations(docs, 2):
        truth = gold[a["id"]] == gold[b["id"]]
        guess = predicted[a["id"]] == predicted[b["id"]]
        if not truth and not guess:
            continue
        row = counts["same_language" if a["lang"] == b["lang"] else "cross_language"]
        if truth and guess:
            row[0] += 1
        elif guess:
            row[1] += 1
            errors.append({"kind": "false merge", "a": a["id"], "b": b["id"]})
        else:
            row[2] += 1
            errors.append({"kind": "missed", "a": a["id"], "b": b["id"]})
    out: dict[str, Any] = {"articles": len(docs), "gold_events": len(set(gold.values())),
                           "predicted_events": len(set(predicted.values()))}
    for name, (tp, fp, fn) in counts.items():
        out[name] = {"pairs_gold": tp + fn, "tp": tp, "fp": fp, "fn": fn,
                     "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
                     "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0}
    out["errors"] = errors
    return out


def written_set(eval_dir: Path = EVAL_DIR) -> tuple[list[dict[str, Any]], dict[str, str]]:
    data = yaml.safe_load((eval_dir / "articles.yml").read_text(encoding="utf-8"))["articles"]
    docs = [{"id": a["id"], "lang": a["lang"], "title": a["title"], "text": a["text"],
             "at": datetime.fromisoformat(a["at"].replace("Z", "+00:00"))} for a in data]
    return docs, {a["id"]: a["event"] for a in data}


def real_set(items_path: Path = REAL_ITEMS, eval_dir: Path = EVAL_DIR
             ) -> tuple[list[dict[str, Any]], dict[str, str]] | None:
    """The real items of the labelled days: every item of those days, gold = its labelled event,
    or an event of its own. None without the corpus."""
    if not items_path.exists():
        return None
    labels = yaml.safe_load((eval_dir / "real_items.yml").read_text(encoding="utf-8"))
    days = set(labels["days"])
    event_of = {item: event for event, items in (labels["events"] or {}).items() for item in items}
    docs = []
    for line in items_path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["date"] not in days:
            continue
        minute = int(item["id"].rsplit("-", 1)[-1]) % 600  # no time of day in the feed: spread
        at = datetime.fromisoformat(item["date"]).replace(tzinfo=UTC) + timedelta(hours=6, minutes=minute)
        docs.append({"id": item["id"], "lang": item["lang"], "title": item["title"],
                     "text": item.get("description") or "", "at": at})
    gold = {d["id"]: event_of.get(d["id"], f"own:{d['id']}") for d in docs}
    return docs, gold


def evaluate(params: Params | None = None) -> dict[str, Any]:
    docs, gold = written_set()
    results = {"written": pairwise(docs, gold, cluster(docs, params))}
    real = real_set()
    if real is not None:
        results["real_items"] = pairwise(real[0], real[1], cluster(real[0], params))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list the misclassified pairs")
    args = parser.parse_args(argv)
    results = evaluate()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("== events: pairwise 'same event' (targets: cross-language P >= 0.90, R >= 0.80; "
          "same-language P >= 0.95, R >= 0.90)")
    for name, result in results.items():
        print(f"{name}: {result['articles']} articles, {result['gold_events']} gold events, "
              f"{result['predicted_events']} predicted")
        for kind in ("same_language", "cross_language"):
            r = result[kind]
            print(f"  {kind:15s} precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
                  f"(gold pairs {r['pairs_gold']}, tp {r['tp']}, fp {r['fp']}, fn {r['fn']})")
        if args.errors:
            for error in result["errors"]:
                print(f"    {error['kind']}: {error['a']} ~ {error['b']}")
    if "real_items" not in results:
        print("real_items: skipped (../shared/corpus/real-feed-items is absent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
