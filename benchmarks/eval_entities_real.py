"""Entity precision and recall on real feed items (``../shared/corpus/real-feed-items``), per
language, and entity precision on the seed dispatch (``tests/fixtures/tagging/seed_dispatch_fr.txt``).

Each real item carries the entities it names by their English canonical name. Names are compared
after mapping both sides to gazetteer canonical names (:func:`canonical`): a gold name that is an
entry's name or one of its aliases becomes that entry ("Washington" -> "Washington, D.C.",
"Georgia" -> "Georgia (country)"); NER-only names go through the same map, else stay as folded text.
A state found through capital-for-government metonymy (``source == "metonymy"``, see
:mod:`newsmon.tagging.entities`) is right when the gold names the state or the capital standing
for it. Predictions are what the tagger counts (``entities()``), with statistical NER where its
model is installed (French only) when ``--ner`` is on (the default when spaCy and the model are
installed), for every item (the pipeline runs NER only where a topic scores; this measures the
worst case). NER-only names keep the article's wording ("Syrie", "Birmanie"), which an English gold
name cannot match: the per-language precision counts them wrong, so it is a lower bound for French;
the gazetteer-only precision and the hand-checked sample give the reader's view.

The hand-checked sample (30 items, 10 per language, ``random.Random(SAMPLE_SEED)``) is scored
against ``eval/tagging/real_sample_checked.yml``: per item id, the predicted entities a reader
checking the item by hand judged wrong (an id and names only; no text of ../shared is stored).
Entities not listed there are right; a prediction the file does not know about is reported as
unchecked, so the file must be updated when the tagger changes.

Without ../shared the real-item part is skipped with a message; the seed part always runs.

    python -m benchmarks.eval_entities_real [--json] [--errors] [--no-ner] [--sample]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from newsmon.tagging.entities import entities, ner_available
from newsmon.tagging.gazetteer import Gazetteer, fold, load_gazetteer

ROOT = Path(__file__).resolve().parents[1]
ITEMS = ROOT.parent / "shared" / "corpus" / "real-feed-items" / "items.jsonl"
SEED = ROOT / "tests" / "fixtures" / "tagging" / "seed_dispatch_fr.txt"
SEED_GOLD = ROOT / "tests" / "fixtures" / "tagging" / "seed_dispatch_fr.gold.yml"
CHECKED = ROOT / "eval" / "tagging" / "real_sample_checked.yml"
SAMPLE_SEED = 12
SAMPLE_PER_LANGUAGE = 10
LANGUAGES = ("en", "fr", "pl")
_DATE_LINE_RE = re.compile(r"^date \d{4}-\d{2}(?:-\d{2})?\s+")
"""The seed format's date prefix (the document reader parses it; here only the text is wanted)."""


class Canon:
    """Maps a name (gold or predicted) to a gazetteer canonical name, else to its folded text."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.table: dict[str, str] = {}
        # weakest first, so that names and strong aliases overwrite weak ones
        for entity in gazetteer.entities:
            for table in (entity.weak,):
                for aliases in table.values():
                    for alias in aliases:
                        self.table.setdefault(fold(alias), entity.name)
        for entity in gazetteer.entities:
            for aliases in entity.aliases.values():
                for alias in aliases:
                    self.table[fold(alias)] = entity.name
        for entity in gazetteer.entities:
            self.table[fold(entity.name)] = entity.name
            self.table[_sorted_words(entity.name)] = entity.name

    def __call__(self, name: str) -> str:
        key = fold(name)
        return self.table.get(key) or self.table.get(_sorted_words(name)) or key

    def stands_for(self, name: str) -> str | None:
        entity = self.gazetteer.by_name.get(name)
        return entity.stands_for if entity is not None else None


def _sorted_words(name: str) -> str:
    """"Vilnius summit 2023" and "2023 Vilnius summit" give the same key."""
    return " ".join(sorted(fold(name).replace(",", " ").split()))


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def predict(title: str, text: str, language: str, gazetteer: Gazetteer, ner: bool) -> list[tuple[str, str]]:
    """(canonical or NER name, source) of every counted entity of one item."""
    return [(e.entity, "metonymy" if e.sources == ("metonymy",) else e.source)
            for e in entities(text, title, language, gazetteer, ner=ner)]


def judge(predicted: list[tuple[str, str]], gold_names: list[str], canon: Canon) -> tuple[set, set, set]:
    """(right, wrong, missed) sets of canonical names."""
    gold = {canon(n) for n in gold_names}
    right, wrong = set(), set()
    for name, source in predicted:
        key = canon(name)
        capitals = {canon(e.name) for e in canon.gazetteer.entities if e.stands_for == name}
        ok = key in gold or (source == "metonymy" and bool(capitals & gold))
        (right if ok else wrong).add(key)
    accounted = right | {c for name, source in predicted if source == "metonymy"
                         for c in (canon(e.name) for e in canon.gazetteer.entities if e.stands_for == name)}
    return right, wrong, gold - accounted


def load_items(path: Path = ITEMS) -> list[dict[str, Any]] | None:
    """The real items, or None when ../shared is absent."""
    if not path.exists():
        return None
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sample(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 30 hand-checked items: 10 per language, drawn with ``random.Random(SAMPLE_SEED)``."""
    rng = random.Random(SAMPLE_SEED)
    chosen = []
    for lang in LANGUAGES:
        pool = sorted((i for i in items if i["lang"] == lang), key=lambda i: i["id"])
        chosen += rng.sample(pool, SAMPLE_PER_LANGUAGE)
    return chosen


def evaluate_seed(gazetteer: Gazetteer, ner: bool) -> dict[str, Any]:
    """Precision and recall on the seed dispatch against its gold list."""
    canon = Canon(gazetteer)
    gold = yaml.safe_load(SEED_GOLD.read_text(encoding="utf-8"))["entities"]
    text = _DATE_LINE_RE.sub("", SEED.read_text(encoding="utf-8"), count=1)
    predicted = predict("", text, "fr", gazetteer, ner)
    right, wrong, missed = judge(predicted, gold, canon)
    precision, recall = _prf(len(right), len(wrong), len(missed))
    return {"precision": precision, "recall": recall, "predicted": sorted(n for n, _ in predicted),
            "wrong": sorted(wrong), "missed": sorted(missed)}


def evaluate(items: list[dict[str, Any]] | None, gazetteer: Gazetteer, ner: bool) -> dict[str, Any]:
    """Per-language precision/recall on every real item, the hand-checked sample and the seed."""
    canon = Canon(gazetteer)
    result: dict[str, Any] = {"ner": ner and ner_available("fr"), "seed": evaluate_seed(gazetteer, ner)}
    if items is None:
        result["real"] = None
        return result
    counts: dict[str, Counter[str]] = {lang: Counter() for lang in LANGUAGES}
    errors = []
    for item in items:
        predicted = predict(item["title"], item["description"], item["lang"], gazetteer, ner)
        right, wrong, missed = judge(predicted, [e["name"] for e in item["entities"]], canon)
        counts[item["lang"]].update(tp=len(right), fp=len(wrong), fn=len(missed), items=1)
        ner_names = {canon(n) for n, source in predicted if source == "ner"}
        counts[item["lang"]].update(gaz_tp=len(right - ner_names), gaz_fp=len(wrong - ner_names))
        if wrong or missed:
            errors.append({"id": item["id"], "lang": item["lang"], "wrong": sorted(wrong),
                           "missed": sorted(missed)})
    by_language = {}
    for lang, c in counts.items():
        precision, recall = _prf(c["tp"], c["fp"], c["fn"])
        by_language[lang] = {"items": c["items"], "tp": c["tp"], "fp": c["fp"], "fn": c["fn"],
                             "precision": round(precision, 3), "recall": round(recall, 3),
                             "gazetteer_precision": round(_prf(c["gaz_tp"], c["gaz_fp"], 0)[0], 3)}
    result["real"] = {"by_language": by_language, "errors": errors}
    result["sample"] = evaluate_sample(items, gazetteer, ner)
    return result


def evaluate_sample(items: list[dict[str, Any]], gazetteer: Gazetteer, ner: bool) -> dict[str, Any]:
    """Precision on the 30 hand-checked items, from the judgments in ``CHECKED``."""
    checked = yaml.safe_load(CHECKED.read_text(encoding="utf-8")) if CHECKED.exists() else {}
    judged = checked.get("items") or {}
    right = wrong = 0
    unchecked, listing = [], []
    for item in sample(items):
        predicted = predict(item["title"], item["description"], item["lang"], gazetteer, ner)
        names = sorted({n for n, _ in predicted})
        entry = judged.get(item["id"])
        if entry is None:
            unchecked.append(item["id"])
            listing.append({"id": item["id"], "lang": item["lang"], "predicted": names, "checked": False})
            continue
        bad = set(entry.get("wrong") or [])
        known = set(entry.get("right") or []) | bad
        unknown = [n for n in names if n not in known]
        if unknown:
            unchecked.append(item["id"])
        wrong += sum(n in bad for n in names)
        right += sum(n not in bad and n in known for n in names)
        listing.append({"id": item["id"], "lang": item["lang"], "predicted": names,
                        "wrong": sorted(bad & set(names)), "unchecked": unknown})
    precision = right / (right + wrong) if right + wrong else 1.0
    return {"items": len(listing), "right": right, "wrong": wrong, "precision": round(precision, 3),
            "unchecked": unchecked, "listing": listing}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--errors", action="store_true", help="list wrong and missed entities per item")
    parser.add_argument("--sample", action="store_true", help="list the hand-checked sample's predictions")
    parser.add_argument("--no-ner", action="store_true", help="gazetteer only")
    args = parser.parse_args(argv)
    gazetteer = load_gazetteer()
    result = evaluate(load_items(), gazetteer, ner=not args.no_ner)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    seed = result["seed"]
    print(f"entity eval (NER: {'fr_core_news_sm' if result['ner'] else 'off'})")
    print(f"  seed dispatch: precision {seed['precision']:.3f}, recall {seed['recall']:.3f}; "
          f"wrong {seed['wrong']}, missed {seed['missed']}")
    if result["real"] is None:
        print(f"  real items: skipped ({ITEMS} not found)")
        return 0
    for lang, s in result["real"]["by_language"].items():
        print(f"  real {lang}: {s['items']} items, precision {s['precision']:.3f}, recall {s['recall']:.3f} "
              f"(tp {s['tp']}, fp {s['fp']}, fn {s['fn']}); gazetteer names only: precision "
              f"{s['gazetteer_precision']:.3f}")
    s = result["sample"]
    print(f"  hand-checked sample: {s['items']} items, precision {s['precision']:.3f} "
          f"(right {s['right']}, wrong {s['wrong']}); unchecked items: {s['unchecked'] or 'none'}")
    if args.sample:
        for entry in s["listing"]:
            print("   ", entry)
    if args.errors:
        for error in result["real"]["errors"]:
            print(f"    {error['id']} ({error['lang']}): wrong {error['wrong']}, missed {error['missed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
