"""``newsmon report``: one self-contained HTML page for a day (inline CSS and SVG, no external
resources): stories per day by language over 30 days, the day's top entities, the day's events
(the same happening across outlets and languages), new and growing
stories, feed health. ``--topic`` restricts it to stories matching a topic.

:func:`collect_report_data` reads the database; :func:`render_report` is pure (dict -> HTML).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

WINDOW_DAYS = 30
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac"]

_TOPIC_STORIES = ("(%(topic)s::text IS NULL OR {col} IN "
                  "(SELECT story_id FROM topic_articles WHERE topic = %(topic)s))")
_SEEN = "COALESCE(a.published_at, a.created_at)"


def _rows(cur: Any) -> list[dict[str, Any]]:
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def collect_report_data(dsn: str, day: date | None = None, topic: str | None = None) -> dict[str, Any]:
    """Everything the report shows, for ``day`` (default: today, UTC), from the database."""
    from newsmon.analysts.reports import check_topic
    from newsmon.core.db import connect

    day = day or datetime.now(UTC).date()
    start = day - timedelta(days=WINDOW_DAYS - 1)
    params = {"day": day, "start": start, "topic": topic}
    conn = connect(dsn, application_name="newsmon-report")
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            if topic:
                check_topic(cur, topic)
            cur.execute(f"""SELECT s.first_seen_at::date AS day, COALESCE(r.language, 'und') AS language,
                                   count(*) AS stories
                            FROM stories s LEFT JOIN articles r ON r.id = s.representative_article_id
                            WHERE s.first_seen_at::date BETWEEN %(start)s AND %(day)s
                              AND {_TOPIC_STORIES.format(col='s.id')}
                            GROUP BY 1, 2 ORDER BY 1, 2""", params)
            per_day = _rows(cur)
            cur.execute(f"""SELECT e.name AS entity, e.type, count(DISTINCT a.id) AS articles,
                                   sum(ae.mentions) AS mentions
                            FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                            JOIN articles a ON a.id = ae.article_id
                            WHERE {_SEEN}::date = %(day)s AND {_TOPIC_STORIES.format(col='a.story_id')}
                            GROUP BY e.name, e.type ORDER BY 3 DESC, 4 DESC, 1 LIMIT 12""", params)
            entities = _rows(cur)
            cur.execute(f"""SELECT story_id, title, article_count AS articles, first_seen_at, languages,
                                   sources,
                                   representative_url AS url
                            FROM story_overview
                            WHERE first_seen_at::date = %(day)s AND {_TOPIC_STORIES.format(col='story_id')}
                            ORDER BY article_count DESC, first_seen_at, story_id LIMIT 100""", params)
            new_stories = _rows(cur)
            cur.execute(f"""SELECT s.id AS story_id, s.title, count(a.id) AS new_articles,
                                   s.article_count AS articles, s.first_seen_at, r.url
                            FROM articles a JOIN stories s ON s.id = a.story_id
                            LEFT JOIN articles r ON r.id = s.representative_article_id
                            WHERE {_SEEN}::date = %(day)s AND {_TOPIC_STORIES.format(col='s.id')}
                            GROUP BY s.id, r.url HAVING count(a.id) > 1 OR s.first_seen_at::date < %(day)s
                            ORDER BY 3 DESC, s.article_count DESC, s.id LIMIT 20""", params)
            growing = _rows(cur)
            # events seen on the day: the same happening across outlets and languages
            cur.execute(f"""SELECT o.event_id, o.title, o.stories, o.articles, o.first_seen_at,
                                   array_to_string(o.languages, ', ') AS languages,
                                   cardinality(o.sources) AS sources,
                                   array_to_string(o.top_entities, ', ') AS entities
                            FROM event_overview o
                            WHERE o.first_seen_at::date <= %(day)s AND o.last_seen_at::date >= %(day)s
                              AND EXISTS (SELECT 1 FROM event_stories es WHERE es.event_id = o.event_id
                                          AND {_TOPIC_STORIES.format(col='es.story_id')})
                            ORDER BY cardinality(o.languages) DESC, cardinality(o.sources) DESC,
                                     o.articles DESC, o.event_id LIMIT 50""", params)
            events = _rows(cur)
            cur.execute("""SELECT source, health, last_status, last_polled_at, failure_score,
                                  COALESCE(last_error, last_warning) AS message
                           FROM feed_health
                           ORDER BY CASE health WHEN 'failing' THEN 0 WHEN 'silent' THEN 1
                                                WHEN 'degraded' THEN 2 ELSE 3 END, source""")
            feeds = _rows(cur)
    finally:
        conn.close()
    counts: dict[str, int] = {}
    for feed in feeds:
        counts[feed["health"]] = counts.get(feed["health"], 0) + 1
    return {"day": day, "topic": topic, "generated_at": datetime.now(UTC),
            "days": [start + timedelta(days=i) for i in range(WINDOW_DAYS)],
            "stories_per_day": per_day, "top_entities": entities, "new_stories": new_stories,
            "growing_stories": growing, "events": events, "feed_health": {"counts": counts, "sources": feeds}}


# -- rendering (pure) ---------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return escape(value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value if v is not None))
    return escape(str(value))


def _link(url: Any, label: Any) -> str:
    text = _text(label) or "(untitled)"
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer">{text}</a>'
    return text


def _day_key(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def stacked_bar_chart(days: Sequence[Any], rows: Sequence[dict[str, Any]], width: int = 900,
                      height: int = 260) -> str:
    """Stories per day stacked by language, as an inline SVG."""
    keys = [_day_key(d) for d in days]
    languages = sorted({str(r["language"]) for r in rows})
    counts = {(_day_key(r["day"]), str(r["language"])): int(r["stories"]) for r in rows}
    totals = [sum(counts.get((k, lang), 0) for lang in languages) for k in keys]
    top = max([*totals, 1])
    left, bottom, right, head = 40, 30, 10, 10
    plot_w, plot_h = width - left - right, height - bottom - head
    slot = plot_w / max(len(keys), 1)
    parts = [f'<svg class="chart stacked" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height + 24}" viewBox="0 0 {width} {height + 24}" role="img" '
             'aria-label="Stories per day by language">',
             f'<line x1="{left}" y1="{head + plot_h}" x2="{width - right}" y2="{head + plot_h}" '
             'stroke="#888"/>',
             f'<text x="{left - 4}" y="{head + 10}" text-anchor="end" font-size="11">{top}</text>',
             f'<text x="{left - 4}" y="{head + plot_h}" text-anchor="end" font-size="11">0</text>']
    for i, key in enumerate(keys):
        x = left + i * slot + slot * 0.1
        y = head + plot_h
        for n, lang in enumerate(languages):
            value = counts.get((key, lang), 0)
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(key)} {escape(lang)}: '
                         f'{value}</title></rect>')
        if i % 5 == 0 or i == len(keys) - 1:
            parts.append(f'<text x="{x + slot * 0.4:.1f}" y="{head + plot_h + 16}" text-anchor="middle" '
                         f'font-size="10">{escape(key[5:])}</text>')
    lx = left
    for n, lang in enumerate(languages):
        parts.append(f'<rect x="{lx}" y="{height + 8}" width="12" height="12" '
                     f'fill="{PALETTE[n % len(PALETTE)]}"/>'
                     f'<text x="{lx + 16}" y="{height + 18}" font-size="11">{escape(lang)}</text>')
        lx += 30 + 8 * len(lang)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: Sequence[tuple[str, float]], width: int = 600, bar: int = 20) -> str:
    """Horizontal bars (label, value), as an inline SVG."""
    label_w, gap = 200, 4
    height = max(len(items), 1) * (bar + gap) + gap
    top = max([v for _, v in items] + [1])
    parts = [f'<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="Top entities">']
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar + gap)
        w = (width - label_w - 50) * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end" font-size="12">'
                     f'{escape(str(label))}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[0]}">'
                     f'<title>{escape(str(label))}: {value:g}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + bar * 0.7:.1f}" font-size="12">'
                     f'{value:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:960px;
color:#222;padding:0 1em}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{text-align:left;padding:.3em .5em;
border-bottom:1px solid #eee;vertical-align:top}th{background:#f6f6f6}a{color:#1a5fb4}.empty{color:#777}
.health-failing{color:#b00020;font-weight:bold}.health-degraded,.health-silent{color:#a86400}
.counts span{margin-right:1em}svg text{fill:#333}"""


def render_report(data: dict[str, Any]) -> str:
    """The report page for ``data`` (as returned by :func:`collect_report_data`); every text escaped."""
    day = _day_key(data["day"])
    topic = data.get("topic")
    title = f"newsmon report {day}" + (f" — topic {topic}" if topic else "")
    entities = data.get("top_entities") or []
    new_rows = [[_text(s.get("story_id")), _link(s.get("url"), s.get("title")), _text(s.get("articles")),
                 _text(s.get("languages")), _text(s.get("sources"))] for s in data.get("new_stories") or []]
    growing_rows = [[_text(s.get("story_id")), _link(s.get("url"), s.get("title")),
                     _text(s.get("new_articles")),
                     _text(s.get("articles")), _text(s.get("first_seen_at"))]
                    for s in data.get("growing_stories") or []]
    event_rows = [[_text(e.get("event_id")), _text(e.get("title")), _text(e.get("stories")),
                   _text(e.get("articles")), _text(e.get("languages")), _text(e.get("sources")),
                   _text(e.get("entities"))] for e in data.get("events") or []]
    health = data.get("feed_health") or {}
    feed_rows = [[_text(f.get("source")),
                  f'<span class="health-{escape(str(f.get("health")), quote=True)}">'
                  f'{_text(f.get("health"))}</span>',
                  _text(f.get("last_status")), _text(f.get("last_polled_at")), _text(f.get("failure_score")),
                  _text(f.get("message"))] for f in health.get("sources") or []]
    counts = "".join(f"<span>{_text(state)}: <b>{int(n)}</b></span>"
                     for state, n in sorted((health.get("counts") or {}).items()))
    generated = data.get("generated_at")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Generated {_text(generated)} UTC.</p>' if generated else "",
        f"<h2>Stories per day by language ({WINDOW_DAYS} days to {escape(day)})</h2>",
        stacked_bar_chart(data.get("days") or [], data.get("stories_per_day") or []),
        "<h2>Top entities of the day</h2>",
        bar_chart([(str(e.get("entity")), float(e.get("articles") or 0)) for e in entities])
        if entities else '<p class="empty">no entities tagged on this day</p>',
        f"<h2>Events of the day ({len(event_rows)})</h2>",
        _table(["event", "title", "stories", "articles", "languages", "sources", "entities"], event_rows,
               "no event on this day"),
        f"<h2>New stories ({len(new_rows)})</h2>",
        _table(["story", "title", "articles", "languages", "sources"], new_rows, "no new story on this day"),
        "<h2>Growing stories</h2>",
        _table(["story", "title", "new articles", "articles", "first seen"], growing_rows,
               "no story grew on this day"),
        "<h2>Feed health</h2>",
        f'<p class="counts">{counts}</p>' if counts else "",
        _table(["source", "health", "last", "polled", "failure score", "message"], feed_rows,
               "no sources yet"),
        "</body></html>", ""])


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None


def cmd_report(args: argparse.Namespace) -> int:
    from newsmon.core.config import Settings

    dsn = Settings.from_env(database_url=getattr(args, "database_url", None)).database_url
    page = render_report(collect_report_data(dsn, args.day, args.topic))
    if args.output and args.output != "-":
        Path(args.output).write_text(page, encoding="utf-8")
        print(f"report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(page)
    return 0


def register(subparsers: Any) -> None:
    """Add ``report`` to the ``newsmon`` subcommands."""
    p = subparsers.add_parser("report", help="a self-contained HTML report of a day")
    p.add_argument("--day", type=_day, default=None, help="YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--topic", help="only stories matching this topic")
    p.add_argument("--output", "-o", help="HTML file to write (default: stdout)")
    p.set_defaults(func=cmd_report)
