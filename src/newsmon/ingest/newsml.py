"""Agency wire parsing: IPTC NewsML-G2 and NewsML 1.2 (AFP's long-standing format) to feed entries.

Pure: takes bytes, never a URL to fetch (``url`` only resolves relative links). Like
``parse_feed``, bad input is not an exception: the result carries an ``error`` (nothing usable)
or a ``warning`` (items recovered from a truncated document, or a valid document that holds no
article, such as a package or a concept item).

The XML parser is hardened: no DTD is loaded, no entity is expanded, nothing is read from the
network or the disk, and a document that declares entities in its DOCTYPE (the vehicle of
"billion laughs" and XXE attacks; a wire item never needs one) is refused with an error.
Elements are matched by local name, so documents with or without a namespace prefix (and
NewsML 1.2 with or without a namespace) read the same.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
from collections.abc import Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from newsmon.core.text import fragment_text, normalize_language_code
from newsmon.core.timeparse import parse_datetime
from newsmon.ingest.feeds import MAX_FIELD_CHARS, FeedEntry, ParsedFeed

G2_NAMESPACE = "http://iptc.org/std/nar/2006-10-01/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
G2_NEWS_ITEM = "newsItem"
G2_OTHER_ITEMS = ("packageItem", "conceptItem", "knowledgeItem", "planningItem", "catalogItem")
"""G2 items that carry no article: packages point to other items, the rest describe concepts,
events, plans or vocabularies."""
G2_ROOTS = (G2_NEWS_ITEM, "newsMessage", *G2_OTHER_ITEMS)
G2_PARTS = ("contentSet", "contentMeta", "itemMeta", "groupSet", "itemSet", "rightsInfo")
"""Elements of an item, never a whole document: a clear error, not 'unknown format'."""
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
_STATUSES = {"usable": "usable", "canceled": "canceled", "cancelled": "canceled", "withheld": "withheld",
             "embargoed": "withheld"}
"""pubStatus (G2) and Status (1.2) values; an embargoed 1.2 item must not be used yet: withheld."""
# NITF and XHTML to the HTML that fragment_text knows: block elements keep their own lines;
# embedded media (object data, references) and the XHTML head are not article text.
_TAG_MAP = {"hl1": "h1", "hl2": "h2", "block": "div", "bq": "blockquote", "nitf-table": "div",
            "body.head": "div", "body.content": "div", "body.end": "div", "body": "div", "html": "div",
            "abstract": "div", "note": "div", "fn": "div", "tagline": "p", "dateline": "p", "byline": "p",
            "credit": "p", "distributor": "p", "series": "p"}
_DROP_TAGS = {"media", "media-reference", "media-object", "media-metadata", "head", "script", "style",
              "object", "embed", "iframe", "docdata"}
_HTML_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "section",
                "article", "pre", "hl1", "hl2", "block"}
_LATIN1_DECLARATION_RE = re.compile(
    rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"'](?:iso-8859-1|iso_8859-1|latin-?1|windows-1252|cp1252)[\"']",
    re.IGNORECASE)
_PROLOG_RE = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>", re.DOTALL)
_WS_RE = re.compile(r"\s+")
_SUMMARY_ROLES = ("summary", "abstract", "synthe", "caption")
"""description/@role suffixes, best first: a summary says what the story is; a caption is
what a picture item has."""


class _Refused(Exception):
    """The document is refused before any of its content is read (entity declarations)."""


# --- small tree helpers (local names: any namespace, any prefix) -----------------------------

def _local(element: object) -> str:
    tag = getattr(element, "tag", None)
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _kids(element: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if element is None else [c for c in element if _local(c) == name]


def _kid(element: etree._Element | None, *path: str) -> etree._Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c) == name), None)
    return element


def _text(element: etree._Element | None) -> str | None:
    """All the text under ``element`` on one line, white space collapsed; None when empty."""
    if element is None:
        return None
    text = _WS_RE.sub(" ", "".join(element.itertext())).strip()
    return text[:MAX_FIELD_CHARS] or None


def _attr(element: etree._Element | None, name: str) -> str | None:
    value = element.get(name) if element is not None else None
    return value.strip() if value and value.strip() else None


def _dedup(values: Iterable[str | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value[:500], None)
    return tuple(seen)


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value else None
    except ValueError:
        return None


def _status(value: str | None) -> str:
    """'stat:canceled', 'Canceled', 'cancelled' -> 'canceled'; missing or unknown -> 'usable'."""
    code = (value or "").rpartition(":")[2].strip().lower()
    return _STATUSES.get(code, "usable")


def _http_link(href: str | None, base: str | None) -> str | None:
    if not href:
        return None
    link = urljoin(base, href.strip()) if base else href.strip()
    return link[:2000] if link.startswith(("http://", "https://")) else None


def _first_date(*values: str | None) -> datetime | None:
    for value in values:
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed
    return None


# --- parsing ---------------------------------------------------------------------------------

def _inline_entities(root: etree._Element) -> None:
    """Replace entity references left in the tree (declared in an external DTD that is never
    loaded, e.g. ``&eacute;``) by their HTML meaning, or drop them when they have none."""
    for entity in list(root.iter(etree.Entity)):
        reference = entity.text or ""
        decoded = html.unescape(reference)
        text = ("" if decoded == reference else decoded) + (entity.tail or "")
        parent = entity.getparent()
        if parent is None:
            continue
        previous = entity.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + text
        else:
            parent.text = (parent.text or "") + text
        parent.remove(entity)


def _check_no_entities(tree: etree._ElementTree) -> None:
    dtd = tree.docinfo.internalDTD
    if dtd is None:
        return
    names = [entity.name for entity in dtd.iterentities()]
    if names:
        raise _Refused(
            "refused: the document declares XML entities in its DOCTYPE (" + ", ".join(names[:5])
            + "); entity expansion (billion laughs) and external entities (XXE) are never processed")


def _mislabeled_utf8(content: bytes) -> bool:
    """Declared Latin-1 but valid UTF-8 with non-ASCII bytes: the declaration is wrong (Latin-1
    text is almost never valid UTF-8), and believing it would turn 'é' into 'Ã©'."""
    if not _LATIN1_DECLARATION_RE.match(content[:200]) or content.isascii():
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse_xml(content: bytes) -> tuple[etree._Element | None, set[etree._Element] | None, str | None]:
    """(root, complete elements, syntax error). Without a syntax error every element is complete
    (the set is None); after one, only elements whose end tag was read before it are."""
    encoding = "utf-8" if _mislabeled_utf8(content) else None
    parser = etree.XMLPullParser(events=("start", "end"), encoding=encoding, **_PARSER_OPTIONS)
    try:
        parser.feed(content)
        root = parser.close()
        _check_no_entities(root.getroottree())
        return root, None, None
    except etree.XMLSyntaxError as exc:
        events = list(parser.read_events())
        if not events:
            return None, None, str(exc)
        root = events[0][1].getroottree().getroot()
        _check_no_entities(root.getroottree())
        return root, {element for event, element in events if event == "end"}, str(exc)


def _fragment(container: etree._Element) -> str:
    """Plain text of an XHTML or NITF element, one line per block, via ``fragment_text``."""
    copy = deepcopy(container)
    for element in list(copy.iter()):
        if not isinstance(element.tag, str):
            continue
        name = _local(element)
        if name in _DROP_TAGS and element is not copy:
            parent = element.getparent()
            if parent is not None:
                tail = element.tail or ""
                previous = element.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
                parent.remove(element)
            continue
        element.tag = _TAG_MAP.get(name, name)
        element.attrib.clear()
    copy.tag = "div"
    etree.cleanup_namespaces(copy)
    markup = etree.tostring(copy, encoding="unicode", with_tail=False)
    return fragment_text(markup[: MAX_FIELD_CHARS * 4])[:MAX_FIELD_CHARS]


@dataclass(frozen=True)
class _Body:
    """What a content element (NITF, XHTML, inline data) says: its text and head metadata."""

    text: str = ""
    title: str | None = None
    summary: str | None = None
    dateline: str | None = None
    byline: str | None = None
    language: str | None = None


def _nitf_body(nitf: etree._Element) -> _Body:
    body = _kid(nitf, "body")
    head = _kid(body, "body.head")
    content = _kid(body, "body.content")
    byline = _text(_kid(head, "byline"))
    return _Body(
        text=_fragment(content) if content is not None else "",
        title=_text(_kid(head, "hedline", "hl1")) or _text(_kid(nitf, "head", "title")),
        summary=_fragment(_kid(head, "abstract")) if _kid(head, "abstract") is not None else None,
        dateline=_text(_kid(head, "dateline")),
        byline=byline,
        language=normalize_language_code(nitf.get(XML_LANG) or nitf.get("lang")))


def _xhtml_body(page: etree._Element) -> _Body:
    body = _kid(page, "body") if _local(page) == "html" else page
    return _Body(
        text=_fragment(body) if body is not None else "",
        title=_text(_kid(page, "head", "title")),
        language=normalize_language_code(page.get("lang") or page.get(XML_LANG)))


def _markup_body(container: etree._Element) -> _Body | None:
    """The body held by an inlineXML / DataContent element: NITF, XHTML (with or without the
    html element), or bare HTML-like blocks; None for other vocabularies (events, SportsML...)."""
    for element in container.iter():
        name = _local(element)
        if name == "nitf":
            return _nitf_body(element)
        if name in ("html", "body"):
            return _xhtml_body(element)
    if any(_local(child) in _HTML_BLOCKS for child in container):
        return _Body(text=_fragment(container))
    return None


def _data_body(data: etree._Element) -> _Body:
    """inlineData (G2) or a text-only DataContent (1.2): plain text or escaped HTML."""
    raw = "".join(data.itertext())
    if (data.get("encoding") or "").lower() == "base64":
        try:
            raw = base64.b64decode(raw, validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raw = ""
    return _Body(text=fragment_text(raw[: MAX_FIELD_CHARS * 4])[:MAX_FIELD_CHARS])


def _first_body(candidates: Iterable[etree._Element]) -> _Body:
    """The first candidate content that yields text (else the first with head metadata)."""
    fallback: _Body | None = None
    for candidate in candidates:
        if any(isinstance(child.tag, str) for child in candidate):
            body = _markup_body(candidate)
        elif "".join(candidate.itertext()).strip():
            body = _data_body(candidate)
        else:
            body = None
        if body is None:
            continue
        if body.text:
            return body
        fallback = fallback or body
    return fallback or _Body()


def _strip_title_line(text: str, title: str | None) -> str:
    """A body that opens with the headline (XHTML h1, NITF hl1 kept in the text) repeats it."""
    if not title or not text:
        return text
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if first.strip() == title.strip() and rest.strip() else text


def _entry(*, guid: str | None, link: str | None, title: str | None, summary: str | None,
           content: str, published: datetime | None, author: str | None, language: str | None,
           version: int | None, status: str, dateline: str | None, subjects: tuple[str, ...],
           keywords: tuple[str, ...]) -> FeedEntry | None:
    """A FeedEntry, or None when the item carries nothing (no title, text nor link) and is no
    cancel/withhold notice with a guid (those matter without text: they retract a stored story)."""
    content = _strip_title_line(content or "", title)
    summary = summary or ""
    if summary and summary == content:
        summary = ""
    if not (title or content or summary or link) and (status == "usable" or not guid):
        return None
    if not guid:
        seed = f"{title or ''}|{published.isoformat() if published else ''}|{(content or summary)[:500]}"
        guid = "sha1:" + hashlib.sha1(seed.encode("utf-8")).hexdigest()
    return FeedEntry(guid=guid[:2000], link=link, title=title, summary=summary[:MAX_FIELD_CHARS],
                     content=content[:MAX_FIELD_CHARS], published_at=published, author=author,
                     language=language, version=version, status=status, dateline=dateline,
                     subjects=subjects, keywords=keywords)


# --- NewsML-G2 -------------------------------------------------------------------------------

def _g2_summary(content_meta: etree._Element | None) -> str | None:
    descriptions = [d for d in _kids(content_meta, "description") if _text(d)]
    for role in _SUMMARY_ROLES:
        for description in descriptions:
            if (description.get("role") or "").lower().endswith(role):
                return fragment_text(_text(description))
    return fragment_text(_text(descriptions[0])) if descriptions else None


def _g2_subjects(content_meta: etree._Element | None, language: str | None) -> tuple[str, ...]:
    values: list[str | None] = []
    for subject in _kids(content_meta, "subject"):
        names = [n for n in _kids(subject, "name") if _text(n)]
        same_language = [n for n in names if normalize_language_code(n.get(XML_LANG)) == language]
        values.append(_attr(subject, "qcode") or _attr(subject, "uri"))
        values.append(_text((same_language or names)[0]) if names else None)
    return _dedup(values)


def _g2_link(item: etree._Element, item_meta: etree._Element | None, base: str | None) -> str | None:
    """itemMeta/link (rel canonical, then seeAlso, the default rel), else a remote HTML rendition."""
    links = _kids(item_meta, "link")
    for wanted in ("canonical", "seealso"):
        for link in links:
            rel = (link.get("rel") or "irel:seeAlso").rpartition(":")[2].lower()
            href = _http_link(link.get("href"), base)
            if rel == wanted and href:
                return href
    for remote in _kids(_kid(item, "contentSet"), "remoteContent"):
        if "html" in (remote.get("contenttype") or "").lower():
            href = _http_link(remote.get("href"), base)
            if href:
                return href
    return None


def _g2_item(item: etree._Element, default_language: str | None, base: str | None) -> FeedEntry | None:
    item_meta = _kid(item, "itemMeta")
    content_meta = _kid(item, "contentMeta")
    content_set = _kid(item, "contentSet")
    inline = [c for c in (content_set if content_set is not None else [])
              if _local(c) in ("inlineXML", "inlineData")]
    body = _first_body(inline)
    headlines = [h for h in _kids(content_meta, "headline") if _text(h)]
    language = (normalize_language_code(_attr(_kid(content_meta, "language"), "tag"))
                or normalize_language_code(item.get(XML_LANG)) or body.language
                or normalize_language_code(headlines[0].get(XML_LANG) if headlines else None)
                or default_language)
    creator = next((_text(_kid(c, "name")) for c in _kids(content_meta, "creator") if _text(_kid(c, "name"))),
                   None)
    return _entry(
        guid=_attr(item, "guid"),
        link=_g2_link(item, item_meta, base),
        title=_text(headlines[0]) if headlines else body.title,
        summary=_g2_summary(content_meta) or body.summary,
        content=body.text,
        published=_first_date(_text(_kid(content_meta, "contentCreated")),
                              _text(_kid(item_meta, "firstCreated")),
                              _text(_kid(item_meta, "versionCreated"))),
        author=creator or body.byline,
        language=language,
        version=_int(item.get("version")),
        status=_status(_attr(_kid(item_meta, "pubStatus"), "qcode")),
        dateline=_text(_kid(content_meta, "dateline")) or body.dateline,
        subjects=_g2_subjects(content_meta, language),
        keywords=_dedup(_text(k) for k in _kids(content_meta, "keyword")),
    )


def _g2_items(root: etree._Element) -> Iterator[etree._Element]:
    """The items of a G2 document: the root item, or the items of a newsMessage's itemSets."""
    if _local(root) != "newsMessage":
        yield root
        return
    for item_set in _kids(root, "itemSet"):
        yield from (child for child in item_set if _local(child) in (G2_NEWS_ITEM, *G2_OTHER_ITEMS))


# --- NewsML 1.2 ------------------------------------------------------------------------------

def _v1_guid(identifier: etree._Element | None) -> str | None:
    """The PublicIdentifier without its revision part (urn:newsml:provider:date:id:rev[AU]),
    so that every revision of a story shares one guid; else built from its parts."""
    public = _text(_kid(identifier, "PublicIdentifier"))
    if public:
        parts = public.split(":")
        if len(parts) >= 6 and parts[0].lower() == "urn" and parts[1].lower() == "newsml":
            return ":".join(parts[:5])
        return public
    provider, date_id, item_id = (_text(_kid(identifier, n)) for n in ("ProviderId", "DateId", "NewsItemId"))
    if item_id:
        return f"urn:newsml:{provider or ''}:{date_id or ''}:{item_id}"
    return None


def _v1_subjects(metadata: list[etree._Element]) -> tuple[str, ...]:
    """SubjectCode/Subject|SubjectMatter|SubjectDetail; IPTC subject numbers get the G2
    ``subj:`` scheme so both formats give the same codes."""
    values = []
    for meta in metadata:
        for code in _kids(meta, "SubjectCode"):
            for subject in code:
                name = _attr(subject, "FormalName")
                if name and _local(subject) in ("Subject", "SubjectMatter", "SubjectDetail"):
                    values.append(f"subj:{name}" if name.isdigit() else name)
    return _dedup(values)


def _media_type(content_item: etree._Element) -> str:
    return (_attr(_kid(content_item, "MediaType"), "FormalName") or "text").lower()


def _v1_item(item: etree._Element, envelope_date: str | None,
             default_language: str | None) -> FeedEntry | None:
    identifier = _kid(item, "Identification", "NewsIdentifier")
    management = _kid(item, "NewsManagement")
    news_lines = list(item.iter("{*}NewsLines"))
    metadata = list(item.iter("{*}DescriptiveMetadata"))
    # the text component first: a 1.2 item may also carry photos, captions or a video
    content_items = sorted(item.iter("{*}ContentItem"), key=lambda c: _media_type(c) != "text")
    body = _first_body(d for c in content_items for d in _kids(c, "DataContent"))

    def line(name: str) -> str | None:
        return next((_text(e) for nl in news_lines for e in _kids(nl, name) if _text(e)), None)

    language = (next((normalize_language_code(_attr(lang, "FormalName")) for m in metadata
                      for lang in _kids(m, "Language") if _attr(lang, "FormalName")), None)
                or normalize_language_code(item.get(XML_LANG)) or body.language or default_language)
    keywords = [_text(e) for nl in news_lines for e in _kids(nl, "KeywordLine")]
    keywords += [_attr(p, "Value") for m in metadata for p in _kids(m, "Property")
                 if (p.get("FormalName") or "").lower() == "keyword"]
    creator = next((_attr(party, "FormalName") for admin in item.iter("{*}AdministrativeMetadata")
                    for party in _kids(_kid(admin, "Creator"), "Party") if _attr(party, "FormalName")), None)
    return _entry(
        guid=_v1_guid(identifier),
        link=None,
        title=line("HeadLine") or body.title,
        summary=body.summary,
        content=body.text,
        published=_first_date(_text(_kid(management, "FirstCreated")),
                              _text(_kid(management, "ThisRevisionCreated")), envelope_date),
        author=line("ByLine") or body.byline or creator,
        language=language,
        version=_int(_text(_kid(identifier, "RevisionId"))),
        status=_status(_attr(_kid(management, "Status"), "FormalName")),
        dateline=line("DateLine") or body.dateline,
        subjects=_v1_subjects(metadata),
        keywords=_dedup(keywords),
    )


# --- entry point -----------------------------------------------------------------------------

def _common_language(entries: list[FeedEntry]) -> str | None:
    languages = {e.language for e in entries}
    return languages.pop() if len(languages) == 1 else None


def _outcome(entries: list[FeedEntry], fmt: str, syntax_error: str | None, empty_reason: str) -> ParsedFeed:
    language = _common_language(entries)
    if entries:
        warning = (f"malformed {fmt} document, {len(entries)} item(s) recovered: {syntax_error}"
                   if syntax_error else None)
        return ParsedFeed(entries=entries, format=fmt, language=language, warning=warning)
    if syntax_error:
        return ParsedFeed(format=fmt, error=f"malformed {fmt} document with no complete item: {syntax_error}")
    return ParsedFeed(format=fmt, warning=empty_reason)


def _parse_g2(root: etree._Element, complete: set[etree._Element] | None, syntax_error: str | None,
              base: str | None) -> ParsedFeed:
    default_language = normalize_language_code(root.get(XML_LANG))
    entries: list[FeedEntry] = []
    news_items = 0
    other: list[str] = []
    for item in _g2_items(root):
        if complete is not None and item not in complete:
            continue
        if _local(item) != G2_NEWS_ITEM:
            other.append(_local(item))
            continue
        news_items += 1
        entry = _g2_item(item, default_language, base)
        if entry is not None:
            entries.append(entry)
    if news_items:
        reason = f"{news_items} newsItem(s) with no headline, text or link: nothing to extract"
    elif other:
        kinds = ", ".join(sorted(set(other)))
        reason = f"the document holds no newsItem, only {kinds} (no article text to extract)"
    else:
        reason = "the message is valid but contains no items"
    return _outcome(entries, "newsml-g2", syntax_error, reason)


def _parse_v1(root: etree._Element, complete: set[etree._Element] | None,
              syntax_error: str | None) -> ParsedFeed:
    items = [root] if _local(root) == "NewsItem" else _kids(root, "NewsItem")
    envelope_date = _text(_kid(root, "NewsEnvelope", "DateAndTime"))
    default_language = normalize_language_code(root.get(XML_LANG))
    entries = []
    for item in items:
        if complete is not None and item not in complete:
            continue
        entry = _v1_item(item, envelope_date, default_language)
        if entry is not None:
            entries.append(entry)
    reason = (f"{len(items)} NewsItem(s) with no headline or text: nothing to extract" if items
              else "the document is valid but contains no NewsItem")
    return _outcome(entries, "newsml-1", syntax_error, reason)


def parse_newsml(content: bytes, url: str | None = None) -> ParsedFeed:
    """Parse a NewsML-G2 item or message, or a NewsML 1.2 document, given as bytes (``url``
    only resolves relative links). Never raises on bad input."""
    if not content or not content.strip():
        return ParsedFeed(error="empty document: the server returned no content")
    try:
        root, complete, syntax_error = _parse_xml(content)
        if root is None:
            if not _PROLOG_RE.sub(b"", content).strip():
                return ParsedFeed(error="empty document: no root element, only an XML declaration, "
                                        "comments or a DOCTYPE")
            return ParsedFeed(error=f"not NewsML: malformed XML ({syntax_error})")
        _inline_entities(root)
        name = _local(root)
        namespace = etree.QName(root).namespace
        if name in ("NewsML", "NewsItem"):
            return _parse_v1(root, complete, syntax_error)
        if name in G2_ROOTS or name in G2_PARTS or namespace == G2_NAMESPACE:
            if name not in G2_ROOTS:
                return ParsedFeed(format="newsml-g2", error=f"not a NewsML-G2 item or message: the root "
                                                            f"element is <{name}>, a part of an item")
            return _parse_g2(root, complete, syntax_error, url)
        return ParsedFeed(error=f"not NewsML: the root element is <{name}>")
    except _Refused as exc:
        return ParsedFeed(error=str(exc))
    except Exception as exc:  # lxml on hostile input, or a bug: a result, never a crash
        return ParsedFeed(error=f"NewsML parser crashed: {type(exc).__name__}: {exc}")
