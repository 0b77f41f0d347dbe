"""Text helpers shared by every stage: language codes as feeds and pages declare them, and the
plain text of an HTML fragment (a feed summary, a NewsML body)."""

from __future__ import annotations

import re

UNDETERMINED = "und"
"""The language code of a text whose language cannot be told."""


def normalize_language_code(code: str | None) -> str | None:
    """'fr-FR', 'FR', 'fr_CA' -> 'fr'; 'zh-cn' -> 'zh'; empty or malformed -> None."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if re.fullmatch(r"[a-z]{2,3}", base) and base != UNDETERMINED else None


_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
               "tr", "section", "article", "header", "footer", "pre", "ul", "ol", "table",
               "figure", "figcaption", "dd", "dt"}
_BLANKS_RE = re.compile(r"[ \t\u00a0]*\n[\s\u00a0]*")
_SPACES_RE = re.compile(r"[ \t\u00a0]+")
_WHITESPACE_RE = re.compile(r"\s+")


def fragment_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (a feed summary or ``content:encoded``), one line per
    block element. Text without markup is returned with white space tidied."""
    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return _SPACES_RE.sub(" ", _BLANKS_RE.sub("\n", fragment)).strip()
    import lxml.html  # lxml is a trafilatura dependency

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml.etree.ParserError and friends on hostile markup
        return _SPACES_RE.sub(" ", re.sub(r"<[^>]+>", " ", fragment)).strip()
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    # In HTML a line break in the source is white space: only block elements break lines
    # (<pre> excepted), else a wrapped paragraph would come out as several.
    preformatted = {e for pre in root.iter("pre") for e in pre.iter()}
    for element in root.iter():
        if element.text and element not in preformatted:
            element.text = _WHITESPACE_RE.sub(" ", element.text)
        if element.tail and element.getparent() not in preformatted:
            element.tail = _WHITESPACE_RE.sub(" ", element.tail)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    text = root.text_content()
    lines = (_SPACES_RE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
