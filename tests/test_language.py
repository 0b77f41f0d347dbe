"""Language identification reconciled with the declared language."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from newsmon.articles.language import (
    CONFIDENT,
    MIN_LETTERS,
    UNDETERMINED,
    LanguageResult,
    detect_language,
    normalize_language_code,
)

SAMPLES = {
    "fr": "Le conseil municipal de Villeneuve a adopté mardi soir un budget en hausse pour la "
          "rénovation des écoles. Les travaux commenceront au printemps et devraient durer deux ans, "
          "selon le maire, qui promet de limiter la gêne pour les familles.",
    "en": "The regional transport authority said on Monday that the new tram line would open three "
          "months later than planned. Officials blamed a shortage of parts and promised that passengers "
          "would be kept informed about the revised timetable.",
    "de": "Der Stadtrat von Neustadt hat am Dienstag beschlossen, die Sanierung der alten Brücke über "
          "den Fluss vorzuziehen. Die Arbeiten sollen im Frühjahr beginnen und nach Angaben der "
          "Verwaltung etwa achtzehn Monate dauern.",
    "ru": "Городской совет в среду утвердил новый план ремонта дорог на следующий год. По словам "
          "чиновников, работы начнутся весной, а жителей заранее предупредят о возможных перекрытиях улиц.",
    "uk": "Міська рада у вівторок ухвалила рішення про ремонт шкіл у трьох районах міста. За словами "
          "посадовців, роботи розпочнуться навесні, а батьків заздалегідь повідомлять про зміни в "
          "розкладі занять.",
    "es": "El ayuntamiento aprobó el martes un nuevo plan para mejorar el transporte público en los "
          "barrios del norte. Según la alcaldesa, las primeras líneas de autobús entrarán en servicio en "
          "primavera y serán gratuitas durante un mes.",
}
AMBIGUOUS = "Information presse conference de la region nord"
"""Short, made of words shared by several languages: langdetect is unsure (p < 0.9)."""
VERY_UNSURE = "Zeitung Banco ost Information Radio west"
"""Langdetect's best guess for this word salad is below 0.5."""


@pytest.mark.parametrize("expected", sorted(SAMPLES))
def test_detects_language_without_declaration(expected: str) -> None:
    """Two-sentence news text in each language is detected, confidently, method 'detected'."""
    result = detect_language(SAMPLES[expected])
    assert result.language == expected
    assert result.method == "detected"
    assert result.probability is not None and result.probability >= CONFIDENT


def test_russian_and_ukrainian_told_apart() -> None:
    """Two Cyrillic languages are not confused with each other."""
    assert detect_language(SAMPLES["ru"]).language == "ru"
    assert detect_language(SAMPLES["uk"]).language == "uk"


@pytest.mark.parametrize("expected", sorted(SAMPLES))
def test_declaration_agreeing_with_detection(expected: str) -> None:
    """A declaration matching the detection (in any spelling, e.g. 'FR-fr') gives 'agreed'."""
    result = detect_language(SAMPLES[expected], declared=f"{expected.upper()}-{expected}")
    assert result == LanguageResult(expected, result.probability, "agreed")


def test_confident_detection_overrides_wrong_declaration() -> None:
    """A feed declaring 'en' for French text: the confident detection wins."""
    result = detect_language(SAMPLES["fr"], declared="en")
    assert result.language == "fr"
    assert result.method == "detected_over_declared"
    assert result.probability is not None and result.probability >= CONFIDENT


def test_unsure_detection_defers_to_declaration() -> None:
    """When detection is unsure (p < CONFIDENT) and disagrees, the declared language stands."""
    undeclared = detect_language(AMBIGUOUS)
    assert undeclared.probability is not None and undeclared.probability < CONFIDENT
    declared = "de" if undeclared.language != "de" else "fr"
    result = detect_language(AMBIGUOUS, declared=declared)
    assert result.language == declared
    assert result.method == "declared"
    assert result.probability == undeclared.probability


def test_very_unsure_detection_without_declaration_is_und() -> None:
    """Without a declaration, a detection below 0.5 is not trusted: 'und'."""
    result = detect_language(VERY_UNSURE)
    assert result.language == UNDETERMINED
    assert result.method == "und"
    assert result.probability is not None and result.probability < 0.5


@pytest.mark.parametrize("text", [None, "", "Hello", "Paris, Berlin, London",
                                  "12345 67890 2026-11-24 ,.;!? 555 0000 12345 67890 1234"])
def test_too_short_text_gives_declared_or_und(text: str | None) -> None:
    """Fewer than MIN_LETTERS letters: the declared language if any, else 'und', never a guess."""
    assert detect_language(text) == LanguageResult(UNDETERMINED, None, "und")
    assert detect_language(text, declared="de-AT") == LanguageResult("de", None, "declared")


def test_letters_threshold_counts_letters_not_characters() -> None:
    """Digits and punctuation do not count towards MIN_LETTERS."""
    text = "a" * (MIN_LETTERS - 1) + " 1234567890 !!! 1234567890"
    assert len(text) > MIN_LETTERS
    assert detect_language(text).method == "und"


def test_undetectable_script_gives_declared_or_und() -> None:
    """Letters langdetect has no profile for (Ethiopic) give the declaration, else 'und'."""
    text = "ሰላም ለዓለም ዜና ከተማ ምክር ቤት ዛሬ ስብሰባ አካሂዷል በመንገድ ጥገና ላይ"
    assert detect_language(text) == LanguageResult(UNDETERMINED, None, "und")
    assert detect_language(text, declared="am") == LanguageResult("am", None, "declared")


def test_malformed_declaration_is_ignored() -> None:
    """A declaration that is not a language code ('und', 'english', '') counts as none."""
    for declared in ("und", "english", "", "x"):
        result = detect_language(SAMPLES["es"], declared=declared)
        assert (result.language, result.method) == ("es", "detected")


def test_only_a_prefix_is_examined() -> None:
    """A long French text followed by English is judged on its prefix: French."""
    text = (SAMPLES["fr"] + " ") * 12 + (SAMPLES["en"] + " ") * 40
    assert detect_language(text).language == "fr"


def test_short_ambiguous_text_is_deterministic() -> None:
    """The same short ambiguous text gives the same answer 20 times in a row."""
    results = {detect_language(AMBIGUOUS) for _ in range(20)}
    assert len(results) == 1


def test_deterministic_across_threads() -> None:
    """Concurrent detections of an ambiguous text all agree with the sequential answer."""
    expected = detect_language(AMBIGUOUS)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(lambda _: detect_language(AMBIGUOUS), range(40)))
    assert results == {expected}


def test_deterministic_across_processes() -> None:
    """A fresh interpreter (other hash seed) gives the same answer on the ambiguous text."""
    expected = detect_language(AMBIGUOUS)
    code = (f"from newsmon.articles.language import detect_language as d; r = d({AMBIGUOUS!r}); "
            "print(r.language, r.probability, r.method)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert out.stdout.split() == [expected.language, str(expected.probability), expected.method]


@pytest.mark.parametrize(("code", "expected"), [
    ("fr", "fr"), ("FR", "fr"), ("fr-FR", "fr"), ("fr_CA", "fr"), (" en-gb ", "en"), ("zh-cn", "zh"),
    ("ast", "ast"), ("und", None), ("", None), (None, None), ("x", None), ("english", None), ("12", None),
])
def test_normalize_language_code(code: str | None, expected: str | None) -> None:
    """Language tags reduce to their lower-case primary subtag; junk and 'und' give None."""
    assert normalize_language_code(code) == expected


POLISH = ("Rada miasta przyjęła we wtorek nowy plan remontu dróg na przyszły rok. Według urzędników "
          "prace rozpoczną się wiosną, a mieszkańcy zostaną wcześniej poinformowani o możliwych "
          "utrudnieniach w ruchu i objazdach w centrum miasta.")


@pytest.mark.parametrize("declared", [None, "en", "fr"])
@pytest.mark.parametrize("language", [*SAMPLES, "pl"])
def test_first_pass_agrees_with_the_reference_detection(language: str, declared: str | None) -> None:
    """The cheap first pass (short prefix, two trials) gives what the reference alone gives:
    language, method and, where it stands, a probability as sure; Polish included."""
    text = POLISH if language == "pl" else SAMPLES[language]
    fast = detect_language(text * 2, declared)
    reference = detect_language(text * 2, declared, first_pass=False)
    assert fast.language == reference.language == language
    assert fast.method == reference.method
    assert fast.probability is not None and fast.probability >= CONFIDENT


def test_first_pass_is_skipped_on_short_text() -> None:
    """A short text goes straight to the reference: its unsure probability is kept."""
    assert detect_language(AMBIGUOUS) == detect_language(AMBIGUOUS, first_pass=False)


def test_first_pass_contradicting_the_declaration_is_confirmed_by_the_reference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first pass disagrees with the declared language, the reference decides."""
    from newsmon.articles import language

    calls: list[int] = []
    real = language._detect

    def counting(sample: str, trials: int = language.REFERENCE_TRIALS) -> tuple[str, float] | None:
        calls.append(trials)
        return real(sample, trials)

    monkeypatch.setattr(language, "_detect", counting)
    assert detect_language(SAMPLES["fr"] * 2, "fr").method == "agreed"
    assert calls == [language.FIRST_PASS_TRIALS]
    calls.clear()
    assert detect_language(SAMPLES["fr"] * 2, "de").method == "detected_over_declared"
    assert calls == [language.FIRST_PASS_TRIALS, language.REFERENCE_TRIALS]
