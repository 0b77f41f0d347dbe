"""Extraction quality: token F1 of ``newsmon.articles.extraction.extract_article`` against the gold
article bodies of the article-extraction-benchmark (181 English news pages in ``../shared``).

Bare trafilatura is scored in the same run, as the reference our extractor must not fall
below: ``extract()`` with its defaults, and ``extract(include_comments=False)``, which is how
the benchmark's own runner calls it and the configuration of its published figure.

Metric (the primary one, gated by ``tests/test_eval_extraction.py``):

* tokens: the text lowercased, split on white space and punctuation, i.e. the runs of Unicode
  letters, digits and ``_`` (``re.findall(r"\\w+", text.lower())``; the benchmark's tokenizer,
  plus lowercasing);
* per page: tokens compared as bags (a token twice in the gold counts twice);
  precision = shared / predicted, recall = shared / gold, F1 their harmonic mean;
* reported: the mean of each over the pages; a page with no output scores 0 on all three.

For comparison with the benchmark's published table, ``shingle_f1`` is the score of its
``evaluate.py``: 4-grams of case-kept ``\\w+`` tokens, F1 of the page-mean precision and
recall, pages with no output left out of the precision mean.

Run: ``python -m benchmarks.eval_extraction [--json] [--corpus DIR]`` (``make eval``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS_DIR = SHARED / "corpus" / "article-extraction-benchmark"
_TOKEN_RE = re.compile(r"\w+")
SHINGLE_SIZE = 4


# -- corpus --------------------------------------------------------------------------------------

def load_pages(corpus_dir: Path) -> dict[str, bytes]:
    """Decompressed HTML of every page, as fetched (UTF-8 bytes), by item id (file name stem)."""
    return {path.name.removesuffix(".html.gz"): gzip.decompress(path.read_bytes())
            for path in sorted((corpus_dir / "html").glob("*.html.gz"))}


def load_gold(corpus_dir: Path) -> dict[str, str]:
    """The gold article body of every page, by item id."""
    data = json.loads((corpus_dir / "ground-truth.json").read_text(encoding="utf-8"))
    return {item_id: item.get("articleBody") or "" for item_id, item in data.items()}


# -- metric --------------------------------------------------------------------------------------

def tokenize(text: str | None) -> list[str]:
    """Lowercased word tokens: runs of letters, digits and ``_``; white space and punctuation
    separate them and are dropped. ``"U.S. can't"`` -> ``["u", "s", "can", "t"]``."""
    return _TOKEN_RE.findall(text.lower()) if text else []


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


def token_scores(gold: str, predicted: str | None) -> Scores:
    """Bag-of-tokens precision, recall and F1 of one page; no output (None, empty) scores 0."""
    gold_bag, predicted_bag = Counter(tokenize(gold)), Counter(tokenize(predicted))
    if not predicted_bag:
        return Scores(1.0, 1.0, 1.0) if not gold_bag else Scores(0.0, 0.0, 0.0)
    if not gold_bag:
        return Scores(0.0, 0.0, 0.0)
    shared = sum((gold_bag & predicted_bag).values())
    precision = shared / sum(predicted_bag.values())
    recall = shared / sum(gold_bag.values())
    f1 = 2 * precision * recall / (precision + recall) if shared else 0.0
    return Scores(precision, recall, f1)


def _shingles(text: str | None) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text or "")
    return Counter(tuple(tokens[i:i + SHINGLE_SIZE])
                   for i in range(max(1, len(tokens) - SHINGLE_SIZE + 1)) if tokens)


def benchmark_f1(pairs: Iterable[tuple[str, str | None]]) -> float:
    """The article-extraction-benchmark's own score (its ``evaluate.py``) over (gold, predicted)."""
    precisions: list[float] = []
    recalls: list[float] = []
    for gold, predicted in pairs:
        gold_bag, predicted_bag = _shingles(gold), _shingles(predicted)
        tp = sum((gold_bag & predicted_bag).values())
        fp = sum((predicted_bag - gold_bag).values())
        fn = sum((gold_bag - predicted_bag).values())
        if fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
    precision, recall = statistics.mean(precisions), statistics.mean(recalls)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


# -- extractors ----------------------------------------------------------------------------------

def _newsmon(html: bytes) -> str | None:
    from newsmon.articles.extraction import extract_article

    article = extract_article(html)
    return article.text if article else None


def _newsmon_meta_tags(html: bytes) -> str | None:
    """The pipeline's usual path: metadata from meta tags (the feed gives title and date)."""
    from newsmon.articles.extraction import extract_article

    article = extract_article(html, full_metadata=False)
    return article.text if article else None


def _trafilatura(html: bytes) -> str | None:
    import trafilatura

    return trafilatura.extract(html)


def _trafilatura_no_comments(html: bytes) -> str | None:
    import trafilatura

    return trafilatura.extract(html, include_comments=False)


EXTRACTORS: dict[str, tuple[str, Callable[[bytes], str | None]]] = {
    "newsmon": ("newsmon extract_article", _newsmon),
    "newsmon_meta_tags": ("newsmon extract_article(full_metadata=False)", _newsmon_meta_tags),
    "trafilatura": ("trafilatura extract() defaults", _trafilatura),
    "trafilatura_no_comments": ("trafilatura extract(include_comments=False)", _trafilatura_no_comments),
}
"""key -> (label, function from page bytes to body text or None)."""


def evaluate(corpus_dir: Path = CORPUS_DIR, *, progress: bool = True) -> dict[str, Any]:
    """Score every extractor of :data:`EXTRACTORS` on the corpus; JSON-serializable result.

    ``result["extractors"][key]`` holds ``docs``, ``no_output`` (pages without text),
    ``precision``, ``recall``, ``f1`` (page means of the token metric) and ``shingle_f1``.
    """
    from tqdm import tqdm

    gold = load_gold(corpus_dir)
    pages = load_pages(corpus_dir)
    missing = sorted(set(gold) ^ set(pages))
    if missing:
        raise ValueError(f"{corpus_dir}: pages and ground truth disagree on {len(missing)} item(s), "
                         f"e.g. {missing[0]}")
    outputs: dict[str, dict[str, str | None]] = {key: {} for key in EXTRACTORS}
    for item_id, html in tqdm(pages.items(), desc="extracting", unit="page", file=sys.stderr,
                              disable=not progress):
        for key, (_, extract) in EXTRACTORS.items():
            outputs[key][item_id] = extract(html)

    results: dict[str, Any] = {}
    for key, (label, _) in EXTRACTORS.items():
        scores = [token_scores(gold[item_id], outputs[key][item_id]) for item_id in pages]
        results[key] = {
            "label": label,
            "docs": len(scores),
            "no_output": sum(1 for item_id in pages if not outputs[key][item_id]),
            "precision": statistics.mean(s.precision for s in scores),
            "recall": statistics.mean(s.recall for s in scores),
            "f1": statistics.mean(s.f1 for s in scores),
            "shingle_f1": benchmark_f1((gold[item_id], outputs[key][item_id]) for item_id in pages),
        }
    import trafilatura

    return {
        "corpus": str(corpus_dir),
        "pages": len(pages),
        "trafilatura_version": trafilatura.__version__,
        "metric": "page mean of bag-of-tokens precision/recall/F1; tokens = re.findall(r'\\w+', "
                  "text.lower()); no output scores 0",
        "extractors": results,
    }


# -- command line --------------------------------------------------------------------------------

def format_table(result: dict[str, Any]) -> str:
    extractors = result["extractors"]
    width = max(len(e["label"]) for e in extractors.values())
    lines = [f"extraction token F1 vs gold: {result['pages']} pages of article-extraction-benchmark "
             f"(trafilatura {result['trafilatura_version']})",
             f"{'extractor':<{width}}  {'docs':>4}  {'none':>4}  {'mean P':>6}  {'mean R':>6}  "
             f"{'mean F1':>7}  {'shingle F1*':>11}"]
    for e in extractors.values():
        lines.append(f"{e['label']:<{width}}  {e['docs']:>4}  {e['no_output']:>4}  {e['precision']:>6.4f}  "
                     f"{e['recall']:>6.4f}  {e['f1']:>7.4f}  {e['shingle_f1']:>11.4f}")
    ours = extractors["newsmon"]["f1"]
    for key in ("trafilatura", "trafilatura_no_comments"):
        lines.append(f"newsmon - {extractors[key]['label']}: {ours - extractors[key]['f1']:+.4f} F1")
    lines.append("* the benchmark's own evaluate.py score (4-gram shingles), comparable with its "
                 "published table")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eval_extraction",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR,
                        help="benchmark folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").is_file():
        reason = f"{args.corpus} not found (../shared exists only beside developers' checkouts)"
        print(json.dumps({"skipped": reason}) if args.json else f"skipped: {reason}")
        return 0
    result = evaluate(args.corpus)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
