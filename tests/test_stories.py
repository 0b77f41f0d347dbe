"""Near-duplicate fingerprints and the same-story rule (pure, no database)."""

from __future__ import annotations

import pytest

from newsmon.stories.neardup import (
    BANDS,
    NUM_PERM,
    Fingerprint,
    band_keys,
    compare,
    fingerprint,
    strip_update_marker,
    title_similarity,
)

BASE = """BRUSSELS, Nov 24, 2026 (AFP) - NATO ambassadors met on Tuesday to review air policing over the
Baltic states after a series of incidents involving aircraft flying without transponders near the
border, diplomats said. The review, requested by Lithuania and Latvia, is expected to recommend more
frequent patrols during the winter months and closer coordination with civilian air traffic control.
"We are watching the situation closely and we remain calm," one diplomat said after the meeting,
adding that no decision on new deployments would be taken before the defence ministers meet in
February. Russia's foreign ministry did not respond to a request for comment on Tuesday evening."""

OTHER = """MOSCOW, Nov 24, 2026 (AFP) - Russia's central bank kept its key rate unchanged on Tuesday,
citing persistent inflation driven by wage growth and a weaker rouble, and signalled that cuts were
unlikely before the spring. Analysts polled before the decision had expected a pause, although some
had argued that slowing consumer lending left room for a small reduction this year."""


def test_fingerprint_is_deterministic_and_roundtrips() -> None:
    """The same text always gives the same signature; the DB form reads back identical."""
    a, b = fingerprint(BASE), fingerprint(BASE)
    assert a is not None and b is not None
    assert a.signature.shape == (NUM_PERM,) and (a.signature == b.signature).all()
    again = Fingerprint.from_bytes(a.to_bytes(), a.shingles)
    assert (again.signature == a.signature).all() and again.shingles == a.shingles
    assert band_keys(a) == band_keys(again) == a.bands and len(a.bands) == BANDS


def test_short_text_has_no_fingerprint() -> None:
    """A headline-length text is too short to compare reliably."""
    assert fingerprint("NATO ministers meet in Brussels") is None
    assert fingerprint("") is None and fingerprint(None) is None


def test_copy_with_boilerplate_and_typography_is_same_story() -> None:
    """A partner copy with added boilerplate and curly quotes is the same dispatch."""
    copy = ("Published 24/11/2026 at 18:02\n" + BASE.replace('"', "\u201c")
            + "\nRead also: our live coverage. (c) AFP. Subscribe to our newsletter.")
    match = compare(fingerprint(BASE), fingerprint(copy))
    assert match.same and match.reason == "near" and match.containment > 0.9


def test_truncated_teaser_is_same_story() -> None:
    """The first half of a dispatch is contained in it."""
    teaser = BASE[: len(BASE) // 2]
    match = compare(fingerprint(BASE), fingerprint(teaser))
    assert match.same and match.containment >= 0.8


def test_different_story_is_not_same() -> None:
    """Two unrelated dispatches share no run of five words."""
    match = compare(fingerprint(BASE), fingerprint(OTHER))
    assert not match.same and match.containment < 0.1 and match.reason == "different"


def test_update_marker_decides_in_the_grey_zone() -> None:
    """A rewritten update (70% of the words kept) joins only when its title carries a marker."""
    words = BASE.split()
    rewritten = " ".join(words[: int(len(words) * 0.7)]) + " " + (
        "Later on Tuesday the alliance said two more incidents had been reported over Estonia, bringing "
        "the total this month to nine, and that Finnish jets had joined the patrols for the first time. "
        "Officials said the recommendations would be published on Friday after consultations with all "
        "thirty-two allies and with the civil aviation authorities of the three Baltic states. A "
        "spokesman for the Lithuanian defence ministry welcomed the move and said Vilnius had asked "
        "for the review in October.")
    fa, fb = fingerprint(BASE), fingerprint(rewritten)
    title = "NATO reviews Baltic air policing"
    plain = compare(fa, fb, title, title + " after incidents")
    marked = compare(fa, fb, title, "UPDATE 1-" + title + " after incidents")
    assert 0.55 <= plain.containment < 0.8, plain
    assert not plain.same
    assert marked.same and marked.reason == "update"


@pytest.mark.parametrize(("title", "expected"), [
    ("UPDATE 2-Russian strike on Kharkiv", ("Russian strike on Kharkiv", True)),
    ("MISE À JOUR - Le Conseil OTAN-Russie", ("Le Conseil OTAN-Russie", True)),
    ("URGENT - MISE À JOUR : Kiev", ("Kiev", True)),
    ("CORRECTION: NATO budget", ("NATO budget", True)),
    ("Aktualisierung - Nato-Gipfel", ("Nato-Gipfel", True)),
    ("ОБНОВЛЕНИЕ: Лавров", ("Лавров", True)),
    ("URGENT - Kyiv under attack", ("Kyiv under attack", False)),
    ("New START talks resume", ("New START talks resume", False)),
    ("Update on the Baltic talks", ("Update on the Baltic talks", False)),
    ("", ("", False)),
])
def test_update_markers(title: str, expected: tuple[str, bool]) -> None:
    """Agency markers are removed only when followed by a separator; priority flags don't count."""
    assert strip_update_marker(title) == expected


def test_title_similarity_ignores_markers() -> None:
    """Titles compare without their markers, case and accents folded by normalization."""
    assert title_similarity("MISE À JOUR - Otan : réunion", "Otan : réunion") == 1.0
    assert title_similarity("Otan : réunion", "Budget de la Russie") == 0.0


def _per_document_signature(text: str) -> Fingerprint | None:
    """The signature as computed before the bulk path: one datasketch MinHash per document."""
    import hashlib
    import struct

    import numpy as np
    from datasketch import MinHash

    from newsmon.articles.hashing import normalize_text
    from newsmon.stories.neardup import MIN_SHINGLES, SCHEME, SEED, SHINGLE_WORDS, _shingles

    def _hash32(data: bytes) -> int:  # the shingle hash: first 4 bytes of BLAKE2b, little-endian
        return struct.unpack("<I", hashlib.blake2b(data, digest_size=4).digest())[0]

    shingles = _shingles(normalize_text(text), SHINGLE_WORDS)
    if len(shingles) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_hash32)
    minhash.update_batch(shingles)
    return Fingerprint(minhash.hashvalues.astype(np.uint32), len(shingles))


def test_bulk_signatures_are_identical_to_the_per_document_datasketch_path() -> None:
    """Stored signatures must not change: the numpy bulk path gives, bit for bit, what one
    datasketch MinHash per document (same seed, scheme and shingle hash) gives; texts too
    short in the middle of a batch stay None and do not shift the others."""
    from newsmon.articles.hashing import content_hash, normalize_text
    from newsmon.stories.neardup import fingerprints_of_normalized, text_keys

    texts = [BASE, OTHER, "Too short to compare.", BASE.replace("Tuesday", "Wednesday"),
             "Zażółć gęślą jaźń — " * 40, OTHER[:400], ""]
    bulk = fingerprints_of_normalized([normalize_text(t) for t in texts])
    for text, got in zip(texts, bulk, strict=True):
        want = _per_document_signature(text)
        assert (got is None) == (want is None), text[:40]
        if want is not None and got is not None:
            assert got.to_bytes() == want.to_bytes() and got.shingles == want.shingles
            assert fingerprint(text) is not None and fingerprint(text).to_bytes() == want.to_bytes()
    assert sum(fp is not None for fp in bulk) == 4  # the repeated phrase has 3 distinct shingles
    keys = text_keys([*texts, None])
    assert [h for h, _ in keys] == [content_hash(t) for t in [*texts, None]]
    assert [fp.to_bytes() if fp else None for _, fp in keys] == \
        [fp.to_bytes() if fp else None for fp in [*bulk, None]]


def test_signature_of_a_fixed_text_is_pinned() -> None:
    """A digest of one stored signature, recorded from the per-document path before the bulk
    one: guards the scheme even if datasketch itself changed its permutations."""
    import hashlib

    fp = fingerprint(BASE)
    assert fp is not None and fp.shingles == 103
    assert hashlib.sha256(fp.to_bytes()).hexdigest() == \
        "d87dd5792100e7e060fc279f35665e78a02d651609087c050a326cd2f75e8ab8"


def test_normalization_is_unchanged_by_the_faster_rules() -> None:
    """Stored content hashes must not change: typography is replaced exactly as
    ``str.translate(_TYPOGRAPHY)`` replaced it, and white space around punctuation is removed
    exactly as the former rule (``\\s*([^\\w\\s])\\s*`` -> the punctuation) removed it."""
    import random
    import re
    import unicodedata

    from newsmon.articles.hashing import _SPACE_RE, _TYPOGRAPHY, normalize_text

    def former(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).casefold()
        return re.sub(r"\s*([^\w\s])\s*", r"\1", _SPACE_RE.sub(" ", text).strip())

    rng = random.Random(7)
    alphabet = "ab ,.;:!?«»\u00a0\t\n-'\"é1_ \u2018\u2019\u201c\u201d\u2013\u2014\u00ad\u200b\ufeff\u2212"
    samples = [BASE, OTHER, " « Bonjour » , dit-il ; puis : non ! ", "a . , b", "...", " - "]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    for text in samples:
        assert normalize_text(text) == former(text), text
