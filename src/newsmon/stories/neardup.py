"""Story-level near-duplicate detection (pure): MinHash fingerprints of word shingles, LSH band
keys for lookup in PostgreSQL, and the rule that decides "same dispatch".

The rule works on two estimates from the signatures: Jaccard similarity of the shingle sets
and *containment* (shared shingles over the smaller set), which stays high when one copy is a
truncated teaser or an extended update of the other. Different dispatches on one subject
share words, rarely runs of five words; follow-ups that quote a paragraph stay well below
the containment threshold. In a grey zone, an agency update marker in a title ("UPDATE",
"MISE À JOUR", "CORRECTION", ...) with a similar title decides.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from newsmon.articles.hashing import hash_normalized, normalize_text
from newsmon.core.config import Settings

SHINGLE_WORDS = 5
NUM_PERM = 256
BANDS = 32
ROWS = 2
"""LSH uses the first BANDS * ROWS values. With 2 rows a band, a pair becomes a candidate with
probability 1 - (1 - J**2) ** 32: 95 % at Jaccard 0.3, 73 % at 0.2 (the rewritten-update case,
where containment matters more); the full signature then decides, with less noise. 32 bands
keep the index at 32 rows an article."""
MIN_SHINGLES = 8
"""Texts with fewer shingles (about a dozen words) are too short to compare reliably."""
SEED = 20261125
SCHEME = "affine32"
"""Pinned: stored signatures must stay comparable across datasketch versions. The signature is
datasketch's ``MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)`` over the 32-bit BLAKE2b
hashes of the shingles, computed here with numpy for many documents at once (datasketch is
not imported at run time: it pulls in SciPy, about a second per process);
``tests/test_stories.py`` pins the signatures to datasketch's own."""


@dataclass(frozen=True)
class Thresholds:
    """When two fingerprints are the same dispatch (configured by ``configured_thresholds``)."""

    containment: float = 0.80
    """Same story at or above this containment, whatever the titles."""
    jaccard: float = 0.70
    """Same story at or above this Jaccard (covers light edits of long texts)."""
    grey_containment: float = 0.55
    """From here up to ``containment``: same story only with an update marker and a similar title."""
    title_similarity: float = 0.5
    """Word Jaccard of the titles (markers removed) required in the grey zone."""


def configured_thresholds(settings: Settings) -> Thresholds:
    """The same-story thresholds configured in ``settings``."""
    return Thresholds(containment=settings.dedup_containment, jaccard=settings.dedup_jaccard)


@dataclass(frozen=True)
class Fingerprint:
    """What is stored per article to find its story again: signature and shingle count."""

    signature: np.ndarray  # uint32[NUM_PERM]
    shingles: int

    @functools.cached_property
    def bands(self) -> list[int]:
        """LSH band keys (computed once per fingerprint)."""
        return band_keys(self)

    def to_bytes(self) -> bytes:
        """The signature as stored: little-endian uint32 values."""
        return self.signature.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, shingles: int) -> Fingerprint:
        return cls(np.frombuffer(data, dtype="<u4").astype(np.uint32), int(shingles))


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations for SEED: h -> a * h + b mod 2**32, ``a`` odd."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


_PERM_A, _PERM_B = _permutations()


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which datasketch's affine32 scheme applies first."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def _shingles(normalized: str, k: int = SHINGLE_WORDS) -> set[bytes]:
    words = _WORD_RE.findall(normalized)
    if len(words) < k:
        return {" ".join(words).encode()} if words else set()
    return set(map(str.encode, map(" ".join, zip(*(words[i:] for i in range(k)), strict=False))))


def fingerprint(text: str | None) -> Fingerprint | None:
    """MinHash fingerprint of ``text``; None when too short to compare."""
    return fingerprints_of_normalized([normalize_text(text or "")])[0]


def fingerprints_of_normalized(texts: Sequence[str]) -> list[Fingerprint | None]:
    """MinHash fingerprints of many texts already normalized by ``normalize_text``: the
    shingles of all texts hashed into one array and mixed in one numpy pass, then permuted and
    min-reduced text by text (a text's block of shingles x NUM_PERM stays in the CPU cache,
    which one block for all texts would not). None for a text too short to compare."""
    shingle_sets = [_shingles(text) for text in texts]
    kept = [i for i, shingles in enumerate(shingle_sets) if len(shingles) >= MIN_SHINGLES]
    result: list[Fingerprint | None] = [None] * len(texts)
    if not kept:
        return result
    blake2b = hashlib.blake2b
    digests = b"".join(blake2b(shingle, digest_size=4).digest() for i in kept for shingle in shingle_sets[i])
    mixed = _fmix32(np.frombuffer(digests, dtype="<u4").astype(np.uint32))
    start = 0
    for i in kept:
        end = start + len(shingle_sets[i])
        permuted = mixed[start:end].reshape(-1, 1) * _PERM_A + _PERM_B  # uint32 wraps: mod 2**32
        result[i] = Fingerprint(permuted.min(axis=0), end - start)
        start = end
    return result


def text_keys(texts: Sequence[str | None]) -> list[tuple[str | None, Fingerprint | None]]:
    """(content hash, fingerprint) of each text, normalizing each text once for both."""
    normalized = [normalize_text(text) if text else "" for text in texts]
    prints = fingerprints_of_normalized(normalized)
    return [(hash_normalized(n) if n else None, fp) for n, fp in zip(normalized, prints, strict=True)]


def band_keys(fp: Fingerprint) -> list[int]:
    """One signed 64-bit key per LSH band (band number mixed in), for an indexed bigint column."""
    keys = []
    for band in range(BANDS):
        chunk = fp.signature[band * ROWS:(band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(struct.unpack("<q", digest)[0])
    return keys


def similarity(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    """Estimated (Jaccard, containment) of the two shingle sets."""
    jaccard = float(np.count_nonzero(a.signature == b.signature)) / NUM_PERM
    shared = jaccard * (a.shingles + b.shingles) / (1.0 + jaccard)
    containment = min(1.0, shared / max(1, min(a.shingles, b.shingles)))
    return jaccard, containment


_UPDATE_WORDS = (r"update[sd]?|correction|corrected|correcting|refile[sd]?|rpt|repeat|recasts?|"
                 r"mise à jour|maj|actualisation|rectificatif|corrigé|rectification|"
                 r"aktualisierung|aktualisiert|berichtigung|korrektur|"
                 r"actualización|actualizado|corrección|"
                 r"обновление|обновлено|исправление|оновлення|виправлення|уточнення")
_PRIORITY_WORDS = r"urgent|flash|alert|breaking|eil|eilmeldung|срочно|терміново"
_MARKER_RE = re.compile(
    rf"^\s*(?:(?P<update>{_UPDATE_WORDS})|(?:{_PRIORITY_WORDS}))\s*\d*\s*[-–—:|/]+\s*", re.IGNORECASE)


def strip_update_marker(title: str | None) -> tuple[str, bool]:
    """The title without a leading agency marker ("UPDATE 2 -", "MISE À JOUR -", ...)."""
    if not title:
        return "", False
    stripped, found = title, False
    for _ in range(3):  # "URGENT - MISE À JOUR -"
        match = _MARKER_RE.match(stripped)
        if not match:
            break
        stripped, found = stripped[match.end():], found or bool(match.group("update"))
    return stripped.strip(), found


def title_similarity(a: str | None, b: str | None) -> float:
    """Word Jaccard of two titles, markers removed."""
    wa = set(_WORD_RE.findall(normalize_text(strip_update_marker(a)[0])))
    wb = set(_WORD_RE.findall(normalize_text(strip_update_marker(b)[0])))
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


@dataclass(frozen=True)
class Match:
    same: bool
    jaccard: float
    containment: float
    reason: str  # near | update | different


def compare(a: Fingerprint, b: Fingerprint, title_a: str | None = None, title_b: str | None = None,
            thresholds: Thresholds = Thresholds()) -> Match:
    """Decide whether two fingerprints are the same dispatch, and why."""
    jaccard, containment = similarity(a, b)
    if containment >= thresholds.containment or jaccard >= thresholds.jaccard:
        return Match(True, jaccard, containment, "near")
    if containment >= thresholds.grey_containment:
        marked = strip_update_marker(title_a)[1] or strip_update_marker(title_b)[1]
        if marked and title_similarity(title_a, title_b) >= thresholds.title_similarity:
            return Match(True, jaccard, containment, "update")
    return Match(False, jaccard, containment, "different")
