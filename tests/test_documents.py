"""Local documents (HTML pages, plain-text archive dumps), driven by tests/fixtures/documents and
its expectations table expected.yml; and ``newsmon analyze`` end to end, without a database."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsmon.articles.documents import (
    MAX_TITLE_CHARS,
    DocumentError,
    decode_text,
    iter_files,
    lead_title,
    parse_plain_text,
    read_document,
)

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = Path(__file__).parent / "fixtures" / "documents"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((DOCUMENTS / "expected.yml").read_text("utf-8"))
NO_DATABASE = "postgresql://nobody@127.0.0.1:1/none"


def test_every_document_fixture_has_an_expectation() -> None:
    """expected.yml lists exactly the files `analyze` picks up in the fixtures folder."""
    assert sorted(p.name for p in iter_files([DOCUMENTS])) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_read_document(name: str) -> None:
    """read_document gives what expected.yml says: kind/title/language/date, or the error."""
    expected = EXPECTED[name]
    path = DOCUMENTS / name
    if "error" in expected:
        with pytest.raises(DocumentError) as caught:
            read_document(path)
        assert expected["error"] in str(caught.value)
        return
    doc = read_document(path)
    assert doc.path == str(path)
    assert doc.kind == expected["kind"]
    assert doc.title == expected["title"]
    assert doc.language.language == expected["language"]
    assert doc.language.method == expected["method"]
    assert doc.published == expected["published"]
    if "published_at" in expected:
        want = expected["published_at"]
        assert doc.published_at == (datetime.fromisoformat(want) if want else None)
    if doc.published_at is not None:
        assert doc.published_at.tzinfo is not None
    assert doc.canonical_url == expected.get("canonical_url")
    assert doc.text.startswith(expected["text_starts"]), doc.text[:200]
    for absent in expected.get("text_excludes", []):
        assert absent not in doc.text
    if expected.get("title_from_lead"):  # no title line: the title is the lead sentence, cut cleanly
        assert doc.text.startswith(doc.title.removesuffix("…")), (doc.title, doc.text[:200])
        assert len(doc.title) <= MAX_TITLE_CHARS
    else:
        assert doc.title is None or doc.title not in doc.text.split("\n")[0]


def test_missing_file_is_a_document_error(tmp_path: Path) -> None:
    """A path that does not exist raises DocumentError saying it cannot be read."""
    with pytest.raises(DocumentError, match="cannot read"):
        read_document(tmp_path / "gone.txt")


def test_corrupt_gzip_is_a_document_error(tmp_path: Path) -> None:
    """A truncated gzip file raises DocumentError, not EOFError or OSError."""
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(gzip.compress(b"date 2026-11\nTitle\n\nBody text " * 50)[:60])
    with pytest.raises(DocumentError, match="corrupt gzip"):
        read_document(path)


def test_gzip_holding_html_is_read_as_html(tmp_path: Path) -> None:
    """A gzipped HTML page is decompressed, then extracted like any page."""
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress((DOCUMENTS / "news_en.html").read_bytes()))
    doc = read_document(path)
    assert doc.kind == "html"
    assert doc.title == "Harbour tunnel reopens after six-month repair"


def test_one_line_dump_has_no_title_line_and_blank_dump_is_an_error(tmp_path: Path) -> None:
    """A single line of text is the body (the title is its lead sentence); a date line and nothing
    else is an error."""
    path = tmp_path / "one-line.txt"
    path.write_text("date 2026-11-02\nCouncil meets on Thursday to vote on the budget.\n", "utf-8")
    doc = read_document(path)
    assert doc.title == "Council meets on Thursday to vote on the budget"
    assert doc.text == "Council meets on Thursday to vote on the budget."
    path.write_text("date 2026-11-02\n\n   \n", "utf-8")
    with pytest.raises(DocumentError, match="no article text"):
        read_document(path)


def test_parse_plain_text_handles_crlf_and_leading_blank_lines() -> None:
    """Windows line ends, blank lines before the date and 3+ blank lines in the body are tidied."""
    text = "\r\n\r\n  date 2026-11-05  \r\nTram line delayed\r\n\r\nFirst paragraph.\r\n\r\n\r\n\r\nSecond."
    assert parse_plain_text(text) == ("Tram line delayed", "First paragraph.\n\nSecond.", "2026-11-05")


def test_parse_plain_text_long_first_line_is_not_a_title() -> None:
    """A first line over 200 characters is body text, not a title."""
    first = "The council " + "met again " * 25
    title, body, published = parse_plain_text(first + "\nMore text.")
    assert title is None and published is None
    assert body.startswith("The council")


@pytest.mark.parametrize("line", ["date 2026-00", "date 2026-11-00", "date 2026-11-32", "DATE 2026-13-01"])
def test_parse_plain_text_rejects_impossible_date_lines(line: str) -> None:
    """Month 0 or 13, day 0 or 32: DocumentError naming the line."""
    with pytest.raises(DocumentError, match="invalid date line"):
        parse_plain_text(f"{line}\nTitle\nBody.")


def test_parse_plain_text_date_word_inside_text_is_not_a_date_line() -> None:
    """Only a whole first line 'date YYYY-MM[-DD]' is a date line."""
    title, body, published = parse_plain_text("date 2026-11 was chosen for the vote\nBody text.")
    assert published is None
    assert title == "date 2026-11 was chosen for the vote"
    assert body == "Body text."


SEED_LINES = [
    ("date 2022-01 Les États-Unis et la Russie ont entamé des discussions.", "2022-01"),
    ("date 2022-01    Les États-Unis et la Russie ont entamé des discussions.", "2022-01"),
    ("  date 2022-01-12\t\t Les États-Unis et la Russie ont entamé des discussions.", "2022-01-12"),
    ("DATE 2022-01-12 « Les États-Unis et la Russie ont entamé des discussions. »", "2022-01-12"),
]


@pytest.mark.parametrize(("first", "published"), SEED_LINES)
def test_parse_plain_text_date_then_first_paragraph_on_one_line(first: str, published: str) -> None:
    """The seed format: ``date YYYY-MM[-DD]`` then, on the same line (after any white space), the
    first paragraph: the date is taken, the rest of the line stays in the body, and there is no
    title line (the next line is body text too)."""
    paragraph = first.split(published, 1)[1].strip()
    title, body, date = parse_plain_text(f"{first}\nSecond line of the lead.\n\nSecond paragraph.")
    assert date == published
    assert title is None
    assert body == f"{paragraph}\nSecond line of the lead.\n\nSecond paragraph."


@pytest.mark.parametrize("line", ["date 2026-13 Les alliés", "date 2026-02-31 Les alliés"])
def test_seed_date_lines_are_checked_too(line: str, tmp_path: Path) -> None:
    """An impossible date before a paragraph is an error, as on a line of its own."""
    path = tmp_path / "seed.txt"
    path.write_text(f"{line} se réunissent à Bruxelles.\nSuite.\n", "utf-8")
    with pytest.raises(DocumentError, match="invalid date"):
        read_document(path)


LEADS = [
    ("Les alliés se réunissent. Ils discutent.", "Les alliés se réunissent"),
    ("M. Lavrov a rencontré les U.S. negotiators à Genève. Suite.",
     "M. Lavrov a rencontré les U.S. negotiators à Genève"),
    ("Talks began at 9 a.m. on Friday! Then more.", "Talks began at 9 a.m. on Friday!"),
    ("Quelle suite pour l’Otan ? Les alliés se réunissent.", "Quelle suite pour l’Otan ?"),
    ("Kto zapłaci za obronę? Sojusznicy debatują.", "Kto zapłaci za obronę?"),
    ("A lead without a final stop", "A lead without a final stop"),
    ("\n\n  First paragraph here.\nSecond paragraph.", "First paragraph here"),
    ("", None),
]


@pytest.mark.parametrize(("text", "title"), LEADS)
def test_lead_title_is_the_lead_sentence(text: str, title: str | None) -> None:
    """Up to the first sentence end (abbreviations and initials do not end it), final period dropped."""
    assert lead_title(text) == title


def test_lead_title_of_a_long_sentence_is_cut_at_a_word() -> None:
    """Past the limit: cut at the last word that fits, punctuation trimmed, an ellipsis added."""
    words = "The delegations examined the deployment plans, regiment by regiment, "
    text = words * 4 + "without any decision."
    title = lead_title(text, max_chars=100)
    assert title is not None and title.endswith("…") and len(title) <= 100
    stem = title.removesuffix("…")
    assert text.startswith(stem) and text[len(stem)] in " ,"  # a whole word, never a piece of one
    assert not stem.endswith((",", " "))
    assert lead_title("Supercalifragilistic" * 10 + " end", max_chars=50) == "Supercalifragilistic" * 10 + "…"


def test_decode_text_utf8_bom_and_latin1() -> None:
    """UTF-8 with a BOM loses the BOM; latin-1 bytes decode to the right accented letters."""
    assert decode_text("\ufeffÉté à Genève".encode()) == "Été à Genève"
    sentence = "Le musée rouvrira l'été prochain, a déclaré la directrice à Genève, après les travaux."
    assert decode_text(sentence.encode("latin-1")) == sentence


def test_iter_files_lists_folders_sorted_and_keeps_missing_paths(tmp_path: Path) -> None:
    """Folders give their document files sorted (hidden and other suffixes skipped); missing paths stay."""
    (tmp_path / "b.txt").write_text("x")
    (tmp_path / "a.html").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "notes.yml").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt.gz").write_bytes(b"x")
    missing = tmp_path / "missing.txt"
    assert iter_files([tmp_path, missing]) == [tmp_path / "a.html", tmp_path / "b.txt",
                                               tmp_path / "sub" / "c.txt.gz", missing]


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env["NEWSMON_DATABASE_URL"] = NO_DATABASE  # unreachable: any database access would fail
    return subprocess.run([sys.executable, "-m", "newsmon", "analyze", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_analyze_json_end_to_end_without_database() -> None:
    """`newsmon analyze DIR --json`: one JSON line per file, errors flagged, exit code 1."""
    result = _analyze(str(DOCUMENTS), "--json")
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["path"]).name for r in records] == sorted(EXPECTED)
    failures = 0
    for record in records:
        name = Path(record["path"]).name
        expected = EXPECTED[name]
        if "error" in expected:
            failures += 1
            assert set(record) == {"path", "error"}
            assert expected["error"] in record["error"]
            continue
        assert "error" not in record
        assert record["title"] == expected["title"]
        assert record["language"] == expected["language"]
        assert record["published"] == expected["published"]
        assert isinstance(record["language_probability"], float)
        assert 0.5 <= record["language_probability"] <= 1.0
        assert record["text_length"] == len(read_document(DOCUMENTS / name).text)
    assert f"{failures} file(s) could not be analyzed" in result.stderr
    assert "database" not in result.stderr.lower()


def test_analyze_good_files_exit_zero() -> None:
    """Only readable files: exit code 0 and human-readable lines naming language and title."""
    result = _analyze(str(DOCUMENTS / "news_fr.html"), str(DOCUMENTS / "dump_day.txt"))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if not line.startswith("    ")]
    assert len(lines) == 2  # one line per file, each followed by an indented entities/topics line
    assert "fr (1.0)" in lines[0] and "Valmont : la médiathèque" in lines[0]
    assert "en (1.0)" in lines[1] and "published 2026-11-23" in lines[1]
    assert result.stdout.count("    entities: ") == 2


def test_analyze_missing_file_reports_it() -> None:
    """A missing path is reported as an error line, with exit code 1."""
    result = _analyze(str(DOCUMENTS / "no-such-file.txt"), "--json")
    assert result.returncode == 1
    record = json.loads(result.stdout)
    assert record["path"].endswith("no-such-file.txt")
    assert "cannot read" in record["error"]
