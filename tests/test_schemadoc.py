"""Every table, view and column is described (COMMENT ON), and both generated copies of the schema
documentation (docs/schema.md and the README's schema reference) are up to date."""

from __future__ import annotations

import argparse
from pathlib import Path

import psycopg2
import pytest

from newsmon.operations.schemadoc import (
    BEGIN_MARKER,
    END_MARKER,
    REGENERATE_COMMAND,
    fresh_schema_objects,
    readme_block,
    register,
    render_readme_block,
    replace_readme_block,
    schema_markdown,
    schema_objects,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_MD = ROOT / "docs" / "schema.md"
README = ROOT / "README.md"
STALE = (f"is stale: run `{REGENERATE_COMMAND}` (it documents a scratch database freshly migrated from sql/; "
         "add --database-url URL to use another server) and commit the result")


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
    assert current == expected, f"docs/schema.md {STALE}"


def test_readme_schema_reference_is_current(database_url: str) -> None:
    expected = render_readme_block(schema_objects(database_url))
    current = readme_block(README.read_text(encoding="utf-8"))
    assert current == expected, f"the schema reference in README.md {STALE}"


def test_readme_block_lists_every_object_and_the_views_columns(database_url: str) -> None:
    objects = schema_objects(database_url)
    block = render_readme_block(objects)
    assert block.startswith(BEGIN_MARKER) and block.endswith(END_MARKER + "\n")
    for o in objects:
        assert f"[`{o['name']}`]" in block
        if o["kind"] == "view":
            assert f"#### {o['name']}\n" in block
            assert all(f"| `{c['name']}` |" in block for c in o["columns"])
    assert "| [`article_overview`](#article_overview) | view | read |" in block
    assert "| [`alert_deliveries`](docs/schema.md#alert_deliveries) | table | no access |" in block
    assert "| `canonical_url` |" not in block  # table columns stay in docs/schema.md


def test_replace_readme_block_keeps_the_rest() -> None:
    text = f"# Title\n\nintro\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\n## Next\n"
    block = f"{BEGIN_MARKER}\nnew\n{END_MARKER}\n"
    updated = replace_readme_block(text, block)
    assert updated == f"# Title\n\nintro\n\n{block}\n## Next\n"
    assert replace_readme_block(updated, block) == updated
    assert readme_block(updated) == block
    with pytest.raises(ValueError, match="schema-docs:begin"):
        replace_readme_block("# no markers\n", block)
    with pytest.raises(ValueError):
        replace_readme_block(f"{END_MARKER}\n{BEGIN_MARKER}\n", block)


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


def test_cli_updates_the_readme_block(database_url: str, tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{BEGIN_MARKER}\n{END_MARKER}\n\n## After\n", encoding="utf-8")
    args = _parser().parse_args(["--database-url", database_url, "schema-docs",
                                 "--update-readme", str(readme)])
    assert args.func(args) == 0
    expected = f"# x\n\n{render_readme_block(schema_objects(database_url))}\n## After\n"
    assert readme.read_text(encoding="utf-8") == expected
    out = capsys.readouterr().out
    assert f"updated {readme}" in out and "# newsmon database schema" not in out
    assert args.func(args) == 0
    assert f"unchanged {readme}" in capsys.readouterr().out


def test_cli_refuses_a_readme_without_markers(database_url: str, tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n", encoding="utf-8")
    args = _parser().parse_args(["--database-url", database_url, "schema-docs",
                                 "--update-readme", str(readme)])
    assert args.func(args) == 1
    assert readme.read_text(encoding="utf-8") == "# x\n"
    assert "schema-docs:begin" in capsys.readouterr().out


def _scratch_databases(database_url: str) -> set[str]:
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'newsmon_schemadoc_%'")
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def test_fresh_documents_a_scratch_database_and_drops_it(database_url: str) -> None:
    before = _scratch_databases(database_url)
    fresh = fresh_schema_objects(database_url)
    strip = [{k: v for k, v in o.items() if k != "oid"} for o in fresh]
    assert strip == [{k: v for k, v in o.items() if k != "oid"} for o in schema_objects(database_url)]
    assert _scratch_databases(database_url) == before
