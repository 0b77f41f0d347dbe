"""Format detection and dispatch: one entry point for every feed format a source may serve.

``sniff_format`` looks at the bytes (a BOM, white space, an XML declaration, comments and a
DOCTYPE are skipped) and uses the HTTP Content-Type only as a tie-breaker: servers label feeds
``text/html``, ``text/plain`` or ``application/octet-stream`` far too often to be believed.
``parse_any`` sends the document to the right parser and, when the source's configured kind
says one format and the document is clearly another, says so instead of guessing.
"""

from __future__ import annotations

import codecs
import json
import re

from newsmon.ingest.feeds import ParsedFeed, parse_feed
from newsmon.ingest.jsonfeed import parse_jsonfeed
from newsmon.ingest.newsml import G2_NAMESPACE, G2_PARTS, G2_ROOTS, parse_newsml

FORMATS = ("rss", "atom", "jsonfeed", "newsml-g2", "newsml-1", "html", "text", "jsonl", "unknown")
HEAD_BYTES = 8192
"""Only the first bytes are read to find the root element: a prolog is never longer."""
_BOMS = ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"))
# Without a BOM, NULs around the first '<' or '{' give away UTF-16/32 (XML 1.0 appendix F).
_BOMLESS = ((0, 3, "utf-32-be"), (1, 4, "utf-32-le"), (0, 1, "utf-16-be"), (1, 2, "utf-16-le"))
"""(start, end, encoding): the first four bytes hold NULs exactly at ``start:end``."""
_NAME_RE = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_HTML_ROOTS = {"html", "head", "body", "meta", "title", "link", "script", "style", "div", "p", "table",
               "iframe", "noscript", "center", "frameset", "base"}
_CONTENT_TYPES = {
    "application/rss+xml": "rss", "application/rdf+xml": "rss", "application/atom+xml": "atom",
    "application/feed+json": "jsonfeed", "application/json": "jsonfeed", "text/html": "html",
    "application/xhtml+xml": "html", "text/plain": "text", "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl", "application/jsonlines": "jsonl", "application/x-jsonlines": "jsonl",
}
KIND_FORMATS = {"rss": ("rss", "atom"), "atom": ("atom", "rss"), "jsonfeed": ("jsonfeed",),
                "newsml": ("newsml-g2", "newsml-1")}
"""What a configured feed kind accepts. RSS and Atom are one family here: feedparser reads
both, and publishers switch from one to the other without telling anyone."""
_DESCRIPTIONS = {"rss": "an RSS feed", "atom": "an Atom feed", "jsonfeed": "a JSON Feed",
                 "newsml": "a NewsML document", "newsml-g2": "a NewsML-G2 document",
                 "newsml-1": "a NewsML 1.2 document", "html": "an HTML page", "text": "plain text",
                 "jsonl": "JSON Lines", "unknown": "an unknown format"}
HTML_ERROR = "not a feed: the URL returned an HTML page"
"""The same message as ``parse_feed`` gives, whichever path found the page."""


def _head_text(content: bytes) -> str:
    """The first bytes decoded well enough to read markup: by BOM, by NUL padding, else UTF-8."""
    head = content[:HEAD_BYTES]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom):].decode(encoding, "ignore")
    for start, end, encoding in _BOMLESS:
        if head[start:end] == b"\x00" * (end - start):
            decoded = head.decode(encoding, "ignore")
            if decoded.lstrip(" \t\r\n")[:1] in ("<", "{"):
                return decoded
            break
    text = head.decode("utf-8", "replace")
    # more than a cut multi-byte character at the end: a legacy 8-bit charset, which Latin-1
    # maps byte for byte (only markup and control characters matter here)
    return head.decode("latin-1") if text.count("\ufffd") > 1 else text


def _content_type_hint(content_type: str | None) -> str | None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media.startswith("application/vnd.iptc.g2."):
        return "newsml-g2"
    return _CONTENT_TYPES.get(media)


def _skip_prolog(text: str) -> tuple[int, bool]:
    """Index of the root element's '<' (after declarations, comments, PIs and a DOCTYPE), and
    whether an HTML DOCTYPE was seen. -1 when the head ends inside the prolog."""
    pos, html_doctype = 0, False
    while True:
        while pos < len(text) and text[pos] in " \t\r\n\ufeff":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            pos = -1 if end < 0 else end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            pos = -1 if end < 0 else end + 3
        elif text[pos:pos + 9].upper() == "<!DOCTYPE":
            declaration = re.match(r"<!DOCTYPE\s+([^\s\[>]+)[^\[>]*(\[.*?\]\s*)?>", text[pos:],
                                   re.IGNORECASE | re.DOTALL)
            if declaration is None:
                return -1, html_doctype
            html_doctype = html_doctype or declaration.group(1).lower() == "html"
            pos += declaration.end()
        else:
            return pos, html_doctype
        if pos < 0:
            return -1, html_doctype


def _sniff_markup(text: str, hint: str | None) -> str:
    """The root element decides; an HTML DOCTYPE or an ``<html`` tag only when it is no feed
    root (feeds with a stray XHTML DOCTYPE exist)."""
    pos, html_doctype = _skip_prolog(text)
    match = _NAME_RE.match(text, pos) if pos >= 0 else None
    if match is None:
        return "html" if html_doctype or "<html" in text.lower() else _markup_hint(hint)
    prefix, name = match.group(1) or "", match.group(2)
    start_tag = text[pos:text.find(">", pos) if text.find(">", pos) > 0 else len(text)]
    if name.lower() == "rss" or name in ("RDF", "channel"):
        return "rss"
    if name == "feed":
        return "atom"
    if name in ("NewsML", "NewsItem"):
        return "newsml-1"
    if name in G2_ROOTS or name in G2_PARTS or G2_NAMESPACE in start_tag:
        return "newsml-g2"
    if html_doctype or (name.lower() in _HTML_ROOTS and not prefix) or "<html" in text.lower():
        return "html"
    return _markup_hint(hint)


def _markup_hint(hint: str | None) -> str:
    return hint if hint in ("rss", "atom", "newsml-g2", "html") else "unknown"


def _sniff_json(content: bytes, text: str, hint: str | None) -> str:
    """A JSON Feed is one object with ``items`` (or a jsonfeed.org version); JSON Lines is one
    JSON value per line, which as a whole is not valid JSON."""
    try:
        data = json.loads(content)
    except RecursionError:
        return "unknown"
    except ValueError:
        lines = [line for line in text.splitlines() if line.strip()][:3]
        if len(lines) >= 2:  # the first record decides: a later bad line is the parser's to report
            try:
                if isinstance(json.loads(lines[0]), dict):
                    return "jsonl"
            except ValueError:
                pass
        if "jsonfeed.org/version" in text or hint == "jsonfeed":
            return "jsonfeed"  # a truncated or broken JSON Feed: its parser says what is wrong
        return "jsonl" if hint == "jsonl" else "unknown"
    if isinstance(data, dict):
        version = data.get("version")
        if (isinstance(version, str) and "jsonfeed.org" in version) or "items" in data:
            return "jsonfeed"
    return hint if hint in ("jsonl", "jsonfeed") and isinstance(data, dict) else "unknown"


def _is_text(text: str) -> bool:
    if not text.strip() or "\x00" in text:
        return False
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n\f")
    return controls <= len(text) // 100


def sniff_format(content: bytes, content_type: str | None = None) -> str:
    """One of ``FORMATS``, decided from the content (gzip already removed by the caller); the
    content type only decides between candidates the content leaves open."""
    hint = _content_type_hint(content_type)
    text = _head_text(content or b"").lstrip(" \t\r\n\ufeff")
    if not text:
        return "unknown"
    if text[0] in "{[":
        return _sniff_json(content, text, hint)
    if text[0] == "<":
        return _sniff_markup(text, hint)
    if _is_text(text):
        return "text"
    return "unknown"


def _found(detected: str) -> str:
    return _DESCRIPTIONS.get(detected, detected)


def parse_any(content: bytes, headers: dict[str, str] | None = None, url: str | None = None,
              kind: str = "auto") -> ParsedFeed:
    """Parse a feed of any supported format. ``kind`` is the source's configured kind
    (``auto|rss|atom|jsonfeed|newsml``): explicit and contradicted by the content, it gives an
    error naming both; ``auto`` follows the content. Never raises on bad input."""
    if not content or not content.strip():
        return ParsedFeed(error="empty document: the server returned no content")
    try:
        content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), None)
        detected = sniff_format(content, content_type)
        if kind != "auto":
            if kind not in KIND_FORMATS:
                return ParsedFeed(error=f"unknown feed kind {kind!r}: expected auto or one of "
                                        f"{', '.join(KIND_FORMATS)}")
            if detected == "html":
                return ParsedFeed(error=f"{HTML_ERROR} (expected {_DESCRIPTIONS[kind]}, kind '{kind}')")
            if detected != "unknown" and detected not in KIND_FORMATS[kind]:
                return ParsedFeed(error=f"wrong format: expected {_DESCRIPTIONS[kind]} (kind '{kind}'), "
                                        f"found {_found(detected)}")
            target = KIND_FORMATS[kind][0]
        else:
            target = detected
        if target in ("rss", "atom"):
            return parse_feed(content, headers, url)
        if target == "jsonfeed":
            return parse_jsonfeed(content, url)
        if target in ("newsml-g2", "newsml-1"):
            return parse_newsml(content, url)
        if target == "html":
            return ParsedFeed(error=HTML_ERROR)
        if target in ("text", "jsonl"):
            return ParsedFeed(error=f"not a feed: the document is {_found(target)}, not a feed format")
        if _head_text(content).lstrip(" \t\r\n\ufeff")[:1] in ("{", "["):
            return parse_jsonfeed(content, url)  # broken JSON: its parser names the problem
        return parse_feed(content, headers, url)  # feedparser's loose parser is the last resort
    except Exception as exc:  # a bug must not stop the run: the source gets an error instead
        return ParsedFeed(error=f"format detection crashed: {type(exc).__name__}: {exc}")
