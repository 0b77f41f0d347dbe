"""Language identification with langdetect, reconciled with what the feed or page declares."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from langdetect import DetectorFactory, detector_factory
from langdetect.lang_detect_exception import LangDetectException

from newsmon.core.text import UNDETERMINED, normalize_language_code

DetectorFactory.seed = 0  # langdetect is randomized: seed it or short texts flip languages
PREFIX_CHARS = 1000
"""Only a prefix is examined: cost grows with length, accuracy stops growing long before. 1,000
characters (~150 words) gave the same language as 1,500 on all 181 real pages of the extraction
corpus and all 111 dedup evaluation documents, in 56-60 % of the time."""
FIRST_PASS_CHARS = 300
FIRST_PASS_TRIALS = 2
SURE = 0.99
"""The first pass: langdetect itself on a 300-character prefix with two trials instead of
seven (a fifth to a third of the cost). Each trial converges on one language, so the
probability is the share of trials that agree: the answer stands when both trials agree
(``SURE``) and it does not contradict the declared language; otherwise the reference detection
(``PREFIX_CHARS``, seven trials) decides. Agreement with the reference alone is printed by
``python -m benchmarks.bench_import`` (``make bench``): the 181 real pages of the extraction
benchmark and the 380 English, French and Polish feed items of ``../shared``. 200 characters
agreed on 179 of 181 pages only: a page starting with one English sentence (the benchmark's
copies) was then taken for English."""
FIRST_PASS_MIN_LETTERS = 150
"""Shorter texts (a headline, a teaser) go straight to the reference detection: there the
trials disagree, the probability says so, and seven trials on a short text cost little."""
REFERENCE_TRIALS = 7
MIN_LETTERS = 25
"""Below this many letters the text is too short to tell its language."""
CONFIDENT = 0.90
"""A detection at least this sure overrides a conflicting declaration."""
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)
_lock = threading.Lock()


@dataclass(frozen=True)
class LanguageResult:
    """``language`` is an ISO 639-1 code or ``und``; ``method`` says how it was decided."""

    language: str
    probability: float | None
    method: str  # agreed | detected | declared | detected_over_declared | und


def warm_up() -> None:
    """Load langdetect's language profiles now (before forking workers that share them)."""
    with _lock:
        detector_factory.init_factory()


def _detect(sample: str, trials: int = REFERENCE_TRIALS) -> tuple[str, float] | None:
    try:
        with _lock:  # seeding is global state: keep one detection at a time reproducible
            detector_factory.init_factory()
            detector = detector_factory._factory.create()  # what detect_langs() does
            detector.n_trial = trials
            detector.append(sample)
            ranked = detector.get_probabilities()
    except LangDetectException:
        return None
    if not ranked:
        return None
    best = ranked[0]
    return normalize_language_code(best.lang) or best.lang, round(float(best.prob), 4)


def detect_language(text: str | None, declared: str | None = None, *,
                    first_pass: bool = True) -> LanguageResult:
    """Detect the language of ``text`` on a bounded prefix and reconcile it with ``declared``.

    Too short to tell: the declared language if any, else ``und``. Detection and declaration
    agree: ``agreed``. They disagree: a confident detection wins, otherwise the declaration.
    ``first_pass=False``: the reference detection only (as before the first pass existed).
    """
    declared = normalize_language_code(declared)
    sample = (text or "")[:PREFIX_CHARS]
    if len(_LETTER_RE.findall(sample)) < MIN_LETTERS:
        if declared:
            return LanguageResult(declared, None, "declared")
        return LanguageResult(UNDETERMINED, None, "und")
    short = sample[:FIRST_PASS_CHARS]
    detected = (_detect(short, FIRST_PASS_TRIALS)
                if first_pass and len(_LETTER_RE.findall(short)) >= FIRST_PASS_MIN_LETTERS else None)
    if (detected is None or detected[1] < SURE
            or (declared is not None and detected[0] != declared)):
        detected = _detect(sample)
    if detected is None:
        return LanguageResult(declared, None, "declared") if declared else LanguageResult(
            UNDETERMINED, None, "und")
    language, probability = detected
    if declared is None:
        if probability < 0.5:
            return LanguageResult(UNDETERMINED, probability, "und")
        return LanguageResult(language, probability, "detected")
    if language == declared:
        return LanguageResult(language, probability, "agreed")
    if probability >= CONFIDENT:
        return LanguageResult(language, probability, "detected_over_declared")
    return LanguageResult(declared, probability, "declared")
