"""The database schema as Markdown, from the comments in the catalog (``COMMENT ON``).

Every table, view and column of the public schema carries a plain-language comment (see
``sql/0008_comments_and_reader_role.sql``); ``newsmon schema-docs`` renders them into two
documents regenerated whenever a migration changes the schema:

- ``docs/schema.md``, the full reference (every column of every table and view);
- the "Schema reference" block of ``README.md`` (between :data:`BEGIN_MARKER` and
  :data:`END_MARKER`): every table and view in one list, and the columns of the views.

Both are generated from a freshly migrated scratch database with one command,
:data:`REGENERATE_COMMAND`; ``tests/test_schemadoc.py`` fails when either copy is stale.
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from typing import Any

_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}

BEGIN_MARKER = "<!-- schema-docs:begin -->"
END_MARKER = "<!-- schema-docs:end -->"
REGENERATE_COMMAND = "newsmon schema-docs --fresh --output docs/schema.md --update-readme README.md"

_OBJECTS_SQL = """
SELECT c.oid, c.relname, c.relkind, COALESCE(obj_description(c.oid, 'pg_class'), ''),
       COALESCE((SELECT has_table_privilege(r.oid, c.oid, 'SELECT') FROM pg_roles r
                 WHERE r.rolname = 'newsmon_reader'), false)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
"""

_COLUMNS_SQL = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
       COALESCE(col_description(a.attrelid, a.attnum), '')
FROM pg_attribute a
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""


def schema_objects(dsn: str) -> list[dict[str, Any]]:
    """Tables and views of the public schema (sorted by name), each with its comment, whether
    newsmon_reader may read it, and its columns (name, type, comment) in table order."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(_OBJECTS_SQL)
            objects = [{"oid": oid, "name": name, "kind": _KINDS[kind], "comment": comment,
                        "reader": reader, "columns": []}
                       for oid, name, kind, comment, reader in cur.fetchall()]
            objects.sort(key=lambda o: o["name"])  # in Python: independent of the database collation
            by_oid = {o["oid"]: o for o in objects}
            cur.execute(_COLUMNS_SQL, ([o["oid"] for o in objects],))
            for oid, name, type_, comment in cur.fetchall():
                by_oid[oid]["columns"].append({"name": name, "type": type_, "comment": comment})
    finally:
        conn.close()
    return objects


def fresh_schema_objects(dsn: str) -> list[dict[str, Any]]:
    """:func:`schema_objects` of a scratch database created on the server of ``dsn``, migrated
    from ``sql/`` and dropped afterwards: the schema as the migrations define it, whatever state
    the database of ``dsn`` is in (its role needs CREATEDB)."""
    from newsmon.operations.localdb import create_database, drop_database, with_database
    from newsmon.operations.migrate import migrate

    server = with_database(dsn, "postgres")
    name = f"newsmon_schemadoc_{uuid.uuid4().hex[:10]}"
    url = create_database(server, name)
    try:
        migrate(url)
        return schema_objects(url)
    finally:
        drop_database(server, name)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _column_table(obj: dict[str, Any]) -> list[str]:
    lines = ["| Column | Type | Description |", "| --- | --- | --- |"]
    return lines + [f"| `{c['name']}` | `{c['type']}` | {_cell(c['comment'])} |" for c in obj["columns"]]


def render_schema(objects: list[dict[str, Any]]) -> str:
    """The full reference (docs/schema.md): every table and view with all its columns."""
    lines = ["# newsmon database schema", "",
             f"Generated from the comments in the database by `{REGENERATE_COMMAND}`;",
             "do not edit by hand: change the comments in a migration (`COMMENT ON ...`) and regenerate.",
             "Analysts connect as `newsmon_reader` (read-only; see `sql/0008_comments_and_reader_role.sql`).",
             "", "## Contents", ""]
    lines += [f"- [{o['name']}](#{o['name']}) ({o['kind']})" for o in objects]
    for o in objects:
        summary = f"*{o['kind'].capitalize()}.* {_cell(o['comment'])}".rstrip()
        lines += ["", f"## {o['name']}", "", summary, "", *_column_table(o)]
    return "\n".join(lines) + "\n"


def render_readme_block(objects: list[dict[str, Any]]) -> str:
    """The README's copy, markers included: every table and view in one list (views link to
    their columns below, tables to docs/schema.md), then the columns of each view."""
    views = [o for o in objects if o["kind"] != "table"]
    lines = [BEGIN_MARKER,
             f"<!-- Generated by `{REGENERATE_COMMAND}` from the comments in the database; "
             "do not edit by hand. -->", "",
             "| Table or view | Kind | Analysts (`newsmon_reader`) | Description |",
             "| --- | --- | --- | --- |"]
    for o in objects:
        target = f"#{o['name']}" if o["kind"] != "table" else f"docs/schema.md#{o['name']}"
        access = "read" if o["reader"] else "no access"
        lines.append(f"| [`{o['name']}`]({target}) | {o['kind']} | {access} | {_cell(o['comment'])} |")
    lines += ["", "The columns of the tables are described in [`docs/schema.md`](docs/schema.md); "
              "those of the views follow.", "", "### Views, column by column"]
    for o in views:
        summary = f"*{o['kind'].capitalize()}.* {_cell(o['comment'])}".rstrip()
        lines += ["", f"#### {o['name']}", "", summary, "", *_column_table(o)]
    lines.append(END_MARKER)
    return "\n".join(lines) + "\n"


def readme_block(text: str) -> str:
    """The generated block of a README (markers included); ValueError when the markers are missing."""
    start = text.find(BEGIN_MARKER)
    end = text.find(END_MARKER, start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ValueError(f"no {BEGIN_MARKER} ... {END_MARKER} block found")
    end += len(END_MARKER)
    if text[end:end + 1] == "\n":
        end += 1
    return text[start:end]


def replace_readme_block(text: str, block: str) -> str:
    """``text`` with its generated block replaced by ``block``."""
    return text.replace(readme_block(text), block, 1)


def schema_markdown(dsn: str) -> str:
    """The full reference (docs/schema.md) of the database at ``dsn``."""
    return render_schema(schema_objects(dsn))


def cmd_schema_docs(args: argparse.Namespace) -> int:
    """Print or write docs/schema.md, and/or rewrite the README's block."""
    from newsmon.core.config import Settings

    dsn = Settings.from_env(database_url=getattr(args, "database_url", None)).database_url
    objects = fresh_schema_objects(dsn) if args.fresh else schema_objects(dsn)
    if args.update_readme:
        path = Path(args.update_readme)
        text = path.read_text(encoding="utf-8")
        try:
            updated = replace_readme_block(text, render_readme_block(objects))
        except ValueError as exc:
            print(f"{path}: {exc}; add the two marker lines where the schema reference belongs")
            return 1
        if updated != text:
            path.write_text(updated, encoding="utf-8")
        print(f"{'updated' if updated != text else 'unchanged'} {path}")
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_schema(objects), encoding="utf-8")
        print(f"wrote {path}")
    elif not args.update_readme:
        print(render_schema(objects), end="")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``schema-docs`` subcommand to the ``newsmon`` parser's subparsers."""
    p = subparsers.add_parser("schema-docs", help="the database schema and its comments as Markdown",
                              description=f"Regenerate both copies: {REGENERATE_COMMAND}")
    p.add_argument("--output", "-o", help="write the full reference to this file (default: print)")
    p.add_argument("--update-readme", metavar="README",
                   help=f"rewrite the block between {BEGIN_MARKER} and {END_MARKER} in this file")
    p.add_argument("--fresh", action="store_true",
                   help="document a scratch database migrated from sql/ (created on the server of "
                        "--database-url, dropped after) instead of the database itself")
    p.set_defaults(func=cmd_schema_docs)
