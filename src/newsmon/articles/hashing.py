"""Exact deduplication: a hash of normalized text identifies the same text under any URL.

Normalization removes what copies of one dispatch differ by without changing a word:
case, Unicode forms, typographic quotes, dashes, apostrophes and white space.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u00ad": None, "\u200b": None, "\ufeff": None,
})
_TYPOGRAPHY_CHARS = {chr(k): v if isinstance(v, str) else "" if v is None else chr(v)
                     for k, v in _TYPOGRAPHY.items()}
_TYPOGRAPHY_RE = re.compile("[" + "".join(_TYPOGRAPHY_CHARS) + "]")
"""The same replacements as ``str.translate(_TYPOGRAPHY)``, found by one regex: most texts hold
few of these characters, and translate looks up every character (ten times slower)."""
_SPACE_RE = re.compile(r"\s+")
_SPACED_PUNCT_RE = re.compile(r"\s+(?=[^\w\s])|(?<=[^\w\s])\s+")
r"""White space next to punctuation (removed): the same output as substituting
``\s*([^\w\s])\s*`` with the punctuation alone, with far fewer matches to replace."""
MIN_HASHABLE_CHARS = 40


def _typography(match: re.Match[str]) -> str:
    return _TYPOGRAPHY_CHARS[match.group()]


def normalize_text(text: str) -> str:
    """Fold ``text`` to the form compared by the exact-duplicate hash."""
    text = _TYPOGRAPHY_RE.sub(_typography, unicodedata.normalize("NFKC", text)).casefold()
    text = _SPACE_RE.sub(" ", text).strip()
    # French typography puts a (narrow) space before ; : ! ? and inside quotes: spacing around
    # punctuation is not part of the text.
    return _SPACED_PUNCT_RE.sub("", text)


def content_hash(text: str | None) -> str | None:
    """SHA-256 (hex) of the normalized text, or None when too short to identify a story."""
    if not text:
        return None
    return hash_normalized(normalize_text(text))


def hash_normalized(normalized: str) -> str | None:
    """``content_hash`` of a text already normalized by ``normalize_text`` (normalize once,
    hash and fingerprint from the same string)."""
    if len(normalized) < MIN_HASHABLE_CHARS:
        return None
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()
