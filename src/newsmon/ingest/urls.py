"""Canonical URLs: one spelling per article, so the same story under two links is stored once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

# courlan already removes utm_*, fbclid, gclid and friends; these are common on news sites too.
_EXTRA_TRACKING = {"at_medium", "at_campaign", "at_custom1", "xtor", "ns_mchannel", "ns_source",
                   "ito", "cmpid", "ocid", "smid", "partner", "mc_cid", "mc_eid", "ref_src"}


def canonicalize_url(url: str) -> str:
    """Return ``url`` normalized: lower-case scheme and host, default port, tracking
    parameters and fragment removed, remaining query parameters sorted.

    >>> canonicalize_url("HTTP://Example.com:80/a.html?utm_source=x&b=2&a=1#top")
    'http://example.com/a.html?a=1&b=2'
    """
    url = url.strip()
    try:
        # Given a string, courlan HTML-unescapes it first, turning "&section=" into "§ion=":
        # hand it the parts instead.
        normalized = courlan.normalize_url(urlsplit(url), strict=False, trailing_slash=True)
    except (ValueError, TypeError):
        normalized = url
    parts = urlsplit(normalized)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in _EXTRA_TRACKING and not k.lower().startswith("utm_")]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/",
                       urlencode(sorted(query)), ""))


def host_of(url: str) -> str:
    """The lower-case host name of ``url`` ('' when it has none)."""
    return (urlsplit(url).hostname or "").lower()
