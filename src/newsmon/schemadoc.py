"""The database schema as Markdown, from the comments in the catalog (``COMMENT ON``).

Every table, view and column of the public schema carries a plain-language comment (see
``sql/0008_comments_and_reader_role.sql``); ``newsmon schema-docs`` renders them into one
document, ``docs/schema.md``, regenerated whenever a migration changes the schema.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}

_OBJECTS_SQL = """
SELECT c.oid, c.relname, c.relkind, COALESCE(obj_description(c.oid, 'pg_class'), '')
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
    """Tables and views of the public schema (sorted by name), each with its comment and its
    columns (name, type, comment) in table order."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(_OBJECTS_SQL)
            objects = [{"oid": oid, "name": name, "kind": _KINDS[kind], "comment": comment, "columns": []}
                       for oid, name, kind, comment in cur.fetchall()]
            objects.sort(key=lambda o: o["name"])  # in Python: independent of the database collation
            by_oid = {o["oid"]: o for o in objects}
            cur.execute(_COLUMNS_SQL, ([o["oid"] for o in objects],))
            for oid, name, type_, comment in cur.fetchall():
                by_oid[oid]["columns"].append({"name": name, "type": type_, "comment": comment})
    finally:
        conn.close()
    return objects


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def schema_markdown(dsn: str) -> str:
    """One Markdown document describing every table and view of the public schema."""
    objects = schema_objects(dsn)
    lines = ["# newsmon database schema", "",
             "Generated from the comments in the database by `newsmon schema-docs --output docs/schema.md`;",
             "do not edit by hand: change the comments in a migration (`COMMENT ON ...`) and regenerate.",
             "Analysts connect as `newsmon_reader` (read-only; see `sql/0008_comments_and_reader_role.sql`).",
             "", "## Contents", ""]
    lines += [f"- [{o['name']}](#{o['name']}) ({o['kind']})" for o in objects]
    for o in objects:
        summary = f"*{o['kind'].capitalize()}.* {_cell(o['comment'])}".rstrip()
        lines += ["", f"## {o['name']}", "", summary, "",
                  "| Column | Type | Description |", "| --- | --- | --- |"]
        lines += [f"| `{c['name']}` | `{c['type']}` | {_cell(c['comment'])} |" for c in o["columns"]]
    return "\n".join(lines) + "\n"


def cmd_schema_docs(args: argparse.Namespace) -> int:
    from newsmon.config import Settings

    text = schema_markdown(Settings.from_env(database_url=getattr(args, "database_url", None)).database_url)
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    else:
        print(text, end="")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``schema-docs`` subcommand to the ``newsmon`` parser's subparsers."""
    p = subparsers.add_parser("schema-docs", help="the database schema and its comments as Markdown")
    p.add_argument("--output", "-o", help="write to this file (default: print)")
    p.set_defaults(func=cmd_schema_docs)
