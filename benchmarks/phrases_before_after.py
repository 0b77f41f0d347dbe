"""Key phrases before and after the readability filter (``newsmon.tagging.keywords``): YAKE's own top
phrases (``raw_key_phrases``) next to ``key_phrases``, on the seed dispatch and on 15 real items per
language of ``../shared/corpus/real-feed-items`` (``random.Random(12)``; skipped without ../shared).

    python -m benchmarks.phrases_before_after [--per-language 15] [--top 5]
"""

from __future__ import annotations

import argparse
import random
import sys

from benchmarks.eval_entities_real import LANGUAGES, SEED, load_items
from newsmon.tagging.keywords import key_phrases, raw_key_phrases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=15)
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    docs = [("seed dispatch", "fr", SEED.read_text(encoding="utf-8"))]
    items = load_items()
    if items is None:
        print("real items: skipped (../shared not found)")
    else:
        rng = random.Random(12)
        for lang in LANGUAGES:
            pool = sorted((i for i in items if i["lang"] == lang), key=lambda i: i["id"])
            docs += [(i["id"], lang, f"{i['title']}. {i['description']}")
                     for i in rng.sample(pool, min(args.per_language, len(pool)))]
    for name, lang, text in docs:
        print(f"{name} ({lang})")
        print("  before:", " | ".join(p for p, _ in raw_key_phrases(text, lang, args.top)))
        print("  after: ", " | ".join(p for p, _ in key_phrases(text, lang, args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
