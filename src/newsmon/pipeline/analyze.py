"""``newsmon analyze``: read local files and tag them, without a database (articles -> tagging)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from newsmon.articles.documents import DocumentError, iter_files, read_document
from newsmon.tagging.annotation import annotate


def analyze_paths(paths: Iterable[str | Path], ner: bool = False) -> Iterator[dict[str, Any]]:
    """One record per file under ``paths``: its text, language, entities, key phrases and topics,
    or ``{"path", "error"}`` for a file that cannot be read (the others go on)."""
    for path in iter_files(list(paths)):
        try:
            doc = read_document(path)
        except DocumentError as exc:
            yield {"path": str(path), "error": str(exc)}
            continue
        tags = annotate(doc.text, doc.title, doc.language.language, ner=ner)
        yield {"path": doc.path, "kind": doc.kind, "title": doc.title,
               "text_length": len(doc.text), "language": doc.language.language,
               "language_probability": doc.language.probability, "published": doc.published,
               "entities": [{"name": e["name"], "type": e["type"], "wikidata": e["wikidata"],
                             "mentions": e["mentions"], "source": e["source"]} for e in tags.entities],
               "keywords": [{"keyword": k, "kind": kind, "score": v} for kind, k, v in tags.keywords],
               "topics": tags.topics}
