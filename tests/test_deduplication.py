"""Exact deduplication: the same text under typographic variants hashes equal."""

from __future__ import annotations

import pytest

from newsmon.articles.hashing import MIN_HASHABLE_CHARS, content_hash, normalize_text

ORIGINAL = ("Le ministre a déclaré : « Nous restons vigilants » — et la réunion s’est "
            "terminée à midi, sans annonce.")

VARIANTS = [
    pytest.param('le ministre a déclaré: "nous restons vigilants" - et la réunion s\'est '
                 "terminée à midi, sans annonce.", id="ascii-quotes-dash-lower-case"),
    pytest.param("LE MINISTRE A DÉCLARÉ :\u00a0« NOUS RESTONS VIGILANTS » – ET LA RÉUNION S’EST "
                 "TERMINÉE À MIDI, SANS ANNONCE.", id="upper-case-nbsp-en-dash"),
    pytest.param("Le ministre a déclaré\u202f: «\u202fNous restons vigilants\u202f» — et la réunion "
                 "s’est terminée à midi, sans annonce.", id="narrow-no-break-spaces"),
    pytest.param("Le ministre a de\u0301clare\u0301 : « Nous restons vigilants » — et la re\u0301union "
                 "s’est termine\u0301e a\u0300 midi, sans annonce.", id="decomposed-accents-nfd"),
    pytest.param("  Le ministre a déclaré :\n« Nous restons vigilants »\t—  et la réunion s’est\r\n"
                 "terminée à midi, sans annonce.  ", id="line-breaks-tabs-extra-spaces"),
    pytest.param("Le mi\u00adnistre a déclaré : « Nous restons vigilants » — et la\u200b réunion "
                 "s’est terminée à midi, sans annonce.\ufeff", id="soft-hyphen-zero-width"),
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_typographic_variants_hash_equal(variant: str) -> None:
    """Case, Unicode form, quotes, dashes, apostrophes and spacing do not change the hash."""
    assert content_hash(variant) == content_hash(ORIGINAL)


def test_one_word_change_hashes_differently() -> None:
    """Changing one word (midi -> minuit) gives a different hash."""
    changed = ORIGINAL.replace("midi", "minuit")
    assert changed != ORIGINAL
    assert content_hash(changed) != content_hash(ORIGINAL)


def test_one_digit_change_hashes_differently() -> None:
    """A changed figure is a different text: numbers are not normalized away."""
    a = "The council approved a budget of 12 million euros for the new bridge on Tuesday."
    assert content_hash(a) != content_hash(a.replace("12", "13"))


def test_hash_is_sha256_hex() -> None:
    """The hash is a 64-character lower-case hex SHA-256 digest."""
    digest = content_hash(ORIGINAL)
    assert digest is not None and len(digest) == 64
    assert int(digest, 16) >= 0 and digest == digest.lower()


@pytest.mark.parametrize("text", [None, "", "   \n\t ", "Short teaser.", "x" * (MIN_HASHABLE_CHARS - 1)])
def test_short_or_empty_text_has_no_hash(text: str | None) -> None:
    """Text under MIN_HASHABLE_CHARS (after normalization) is too short to identify a story."""
    assert content_hash(text) is None


def test_padding_does_not_make_short_text_hashable() -> None:
    """White space around a short text does not count towards the minimum length."""
    assert content_hash("   " + "y" * (MIN_HASHABLE_CHARS - 1) + "   \n\n") is None
    assert content_hash("y" * MIN_HASHABLE_CHARS) is not None


def test_normalize_text_folds_typography() -> None:
    """normalize_text folds quotes, dashes, case and spacing around punctuation."""
    assert normalize_text("« Oui ! » — Non…") == '"oui!"-non...'
