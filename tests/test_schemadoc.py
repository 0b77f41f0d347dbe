"""Every table, view and column is described (COMMENT ON), and docs/schema.md is up to date."""

from __future__ import annotations

import argparse
from pathlib import Path

from newsmon.schemadoc import register, schema_markdown, schema_objects

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_MD = ROOT / "docs" / "schema.md"


def test_every_table_view_and_column_has_a_comment(database_url: str) -> None:
    objects = schema_objects(database_url)
    names = {o["name"] for o in objects}
    assert {"articles", "stories", "story_overview", "alert_status", "schema_migrations"} <= names
    missing = [f"{o['kind']} {o['name']}" for o in objects if not o["comment"].strip()]
    missing += [f"column {o['name']}.{c['name']}" for o in objects for c in o["columns"]
                if not c["comment"].strip()]
    assert not missing, ("these have no COMMENT ON (every migration must describe what it adds, in plain "
                         "language for analysts): " + ", ".join(missing))


def test_committed_schema_doc_is_current(database_url: str) -> None:
    expected = schema_markdown(database_url)
    current = SCHEMA_MD.read_text(encoding="utf-8") if SCHEMA_MD.exists() else ""
    assert current == expected, ("docs/schema.md is stale: run `newsmon schema-docs --output docs/schema.md` "
                                 "against a freshly migrated database and commit the result")


def test_markdown_lists_objects_sorted_with_their_columns(database_url: str) -> None:
    text = schema_markdown(database_url)
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ") and line != "## Contents"]
    assert headings == sorted(headings)
    assert "*View.*" in text and "*Table.*" in text
    assert "| `canonical_url` | `text` |" in text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsmon")
    parser.add_argument("--database-url")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_writes_the_file(database_url: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "docs" / "schema.md"
    args = _parser().parse_args(["--database-url", database_url, "schema-docs", "--output", str(out)])
    assert args.func(args) == 0
    assert out.read_text(encoding="utf-8") == schema_markdown(database_url)
    assert str(out) in capsys.readouterr().out


def test_cli_prints_without_output(database_url: str, capsys) -> None:
    args = _parser().parse_args(["--database-url", database_url, "schema-docs"])
    assert args.func(args) == 0
    assert capsys.readouterr().out == schema_markdown(database_url)
