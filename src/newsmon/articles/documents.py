"""Local documents (HTML pages, plain-text archive dumps) turned into article data.

Pure apart from reading the file: shared by ``newsmon analyze`` (no database) and
``newsmon import`` (loads into PostgreSQL).
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from newsmon.articles.extraction import extract_article
from newsmon.articles.language import LanguageResult, detect_language
from newsmon.core.errors import NewsmonError

MAX_FILE_BYTES = 20_000_000
_DATE_LINE_RE = re.compile(r"^\s*date\s+(\d{4})-(\d{2})(?:-(\d{2}))?(?:\s+(\S.*?))?\s*$", re.IGNORECASE)
"""``date YYYY-MM[-DD]``, alone on the first line or followed on it by the first paragraph."""
MAX_TITLE_CHARS = 160
"""A title taken from the lead sentence is cut (at a word, with an ellipsis) past this length."""
_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"»”’)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset({
    "m", "mm", "mme", "mmes", "mlle", "mr", "mrs", "ms", "dr", "st", "ste", "gen", "lt", "col", "sgt",
    "capt", "gov", "sen", "rep", "prof", "nr", "vol", "art", "no", "etc", "vs", "ca", "bzw", "z.b", "u.a",
    "d.h", "u.s", "e.g", "i.e", "jan", "janv", "feb", "févr", "apr", "avr", "aug", "sept", "oct", "nov",
    "dec", "déc", "ul", "św", "płk", "prez",
})
"""Words ending in a period that does not end the sentence ("M. Lavrov", "U.S. forces")."""
_TRAILING_RE = re.compile(r"[\s,;:–—-]+$")
_HTML_RE = re.compile(rb"<(!doctype\s+html|html|head|body|article|p|div)\b", re.IGNORECASE)
DOCUMENT_SUFFIXES = {".html", ".htm", ".xhtml", ".txt", ".text", ".gz", ".xml", ".rss", ".atom",
                     ".json", ".jsonl", ".ndjson", ".newsml"}


class DocumentError(NewsmonError):
    """A file that cannot be read as an article; the message says why."""


@dataclass(frozen=True)
class Document:
    """An article read from a local file."""

    path: str
    kind: str  # html | text
    title: str | None
    text: str
    published: str | None  # as precise as the source: YYYY-MM, YYYY-MM-DD or ISO datetime
    published_at: datetime | None
    language: LanguageResult
    canonical_url: str | None


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), else the most likely charset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None:
        raise DocumentError("cannot decode the text: not UTF-8 and no likely charset")
    return data.decode(best.encoding, errors="replace")


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it is gzip; refuses binaries and oversized files."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(f"file too large ({size} bytes, limit {MAX_FILE_BYTES})")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise DocumentError(f"corrupt gzip file: {exc}") from None
        if len(data) > MAX_FILE_BYTES:
            raise DocumentError(f"file too large once decompressed (over {MAX_FILE_BYTES} bytes)")
    if not data.strip():
        raise DocumentError("empty file")
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file (contains NUL bytes), not HTML or text")
    return data


def lead_title(text: str, max_chars: int = MAX_TITLE_CHARS) -> str | None:
    """A title for an article that has none: its lead sentence (the first paragraph up to the
    first . ! ? … that ends a sentence, a final period dropped), cut at a word boundary with an
    ellipsis when longer than ``max_chars``; never in the middle of a word. None for no text."""
    paragraph = next((line.strip() for line in text.split("\n") if line.strip()), "")
    if not paragraph:
        return None
    sentence = paragraph
    for match in _SENTENCE_END_RE.finditer(paragraph):
        following = paragraph[match.end():].lstrip()
        if following[:1].islower():
            continue  # "etc. and", "p.m. on Friday": the sentence goes on
        if match.group()[0] == "." and len(match.group()) == 1:
            before = re.search(r"([\w.]+)$", paragraph[:match.start()])
            token = before.group(1).lower() if before else ""
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()) or "." in token \
                    or (token.isdigit() and len(token) <= 2):
                continue  # "M. Lavrov", "U.S. forces", "2. Juni"
        sentence = paragraph[:match.end()]
        break
    if sentence.endswith(".") and not sentence.endswith(".."):
        sentence = sentence[:-1]
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence.rfind(" ", 0, max_chars)  # the ellipsis takes the place of the cut words
    if cut <= 0:  # one overlong word: kept whole rather than cut
        first = sentence.split(" ", 1)[0]
        return first if first == sentence else _TRAILING_RE.sub("", first) + "…"
    return _TRAILING_RE.sub("", sentence[:cut]) + "…"


def parse_plain_text(text: str) -> tuple[str | None, str, str | None]:
    """Split an archive dump into (title, body, date): an optional first line ``date YYYY-MM``
    or ``date YYYY-MM-DD``, then the article, whose first line is the title when it is short
    and followed by more text. The date may be followed on its line by the first paragraph
    (``date 2022-01   Les États-Unis ...``), which then stays in the body: such a dump has no
    title line. A title is None when there is no title line (see :func:`lead_title`)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    published = None
    title_line_possible = True
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines:
        match = _DATE_LINE_RE.match(lines[0])
        rest = match.group(4) if match else None
        if match and rest and rest[0].islower():
            match = None  # "date 2026-11 was chosen for the vote": a sentence, not a date line
        if match:
            year, month, day, rest = match.groups()
            if not 1 <= int(month) <= 12 or (day and not 1 <= int(day) <= 31):
                raise DocumentError(f"invalid date line {lines[0].strip()!r}")
            published = f"{year}-{month}" + (f"-{day}" if day else "")
            lines.pop(0)
            if rest:  # the first paragraph began on the date line
                lines.insert(0, rest)
                title_line_possible = False
    while lines and not lines[0].strip():
        lines.pop(0)
    title = None
    if (title_line_possible and len(lines) > 1 and 0 < len(lines[0].strip()) <= 200
            and any(line.strip() for line in lines[1:])):
        title = lines.pop(0).strip()
    body = "\n".join(line.rstrip() for line in lines).strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    return title, body, published


def _published_at(published: str | None) -> datetime | None:
    if not published:
        return None
    parts = [int(p) for p in published.split("-")]
    try:
        return datetime(parts[0], parts[1], parts[2] if len(parts) > 2 else 1, tzinfo=UTC)
    except ValueError as exc:
        raise DocumentError(f"invalid date {published!r}: {exc}") from None


def read_document(path: str | Path) -> Document:
    """Read one HTML or plain-text file as an article; raises DocumentError with the reason
    (a feed, NewsML or JSON Lines file is refused here: ``newsmon import`` reads those)."""
    from newsmon.ingest.formats import sniff_format

    data = read_bytes(Path(path))
    kind = sniff_format(data)
    if kind not in ("html", "text", "unknown"):
        raise DocumentError(f"a {kind} file, not an article page or text: `newsmon import` loads it")
    return document_from_bytes(Path(path), data)


def document_from_bytes(path: Path, data: bytes) -> Document:
    """An HTML page or plain-text dump, already read (and gunzipped), as an article."""
    if _HTML_RE.search(data[:4096]):
        extracted = extract_article(data, None, author=False)  # no author is stored for files
        if extracted is None:
            raise DocumentError("HTML page with no article text")
        published_at = extracted.published_at
        return Document(
            path=str(path), kind="html", title=extracted.title, text=extracted.text,
            published=published_at.isoformat() if published_at else None, published_at=published_at,
            language=detect_language(extracted.text, extracted.language),
            canonical_url=extracted.canonical_url)
    title, body, published = parse_plain_text(decode_text(data))
    if not body:
        raise DocumentError("no article text after the date and title lines")
    return Document(path=str(path), kind="text", title=title or lead_title(body), text=body,
                    published=published,
                    published_at=_published_at(published), language=detect_language(body),
                    canonical_url=None)


def iter_files(paths: list[str | Path]) -> list[Path]:
    """Files named, and files with a document suffix under folders named, sorted; missing
    paths are returned too so the caller reports them."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and not p.name.startswith(".")
                                and (p.suffix.lower() in DOCUMENT_SUFFIXES or not p.suffix)))
        else:
            found.append(path)
    return found
