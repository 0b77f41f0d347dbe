"""``newsmon report``: a self-contained HTML page, escaped, with its SVG charts, from the sample site."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import psycopg2
import pytest

from newsmon.analysts.htmlreport import collect_report_data, render_report
from newsmon.core.errors import NewsmonError

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "newsmon", "--database-url"]
VOID = {"meta", "br", "img", "input", "link", "hr"}


class _Checker(HTMLParser):
    """Balanced tags, and every URL attribute collected."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.scripts += tag == "script"
        self.urls += [(tag, k, v or "") for k, v in attrs if k in ("src", "href", "xlink:href", "action")]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def _check(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)
    assert checker.scripts == 0
    for tag, _, url in checker.urls:
        assert tag == "a", f"no external resource: <{tag}> {url}"
    return checker


def _data(**overrides) -> dict:
    data = {"day": date(2026, 11, 20), "topic": None, "generated_at": datetime(2026, 11, 21, tzinfo=UTC),
            "days": [date(2026, 11, d) for d in range(1, 21)],
            "stories_per_day": [{"day": date(2026, 11, 19), "language": "fr", "stories": 3},
                                {"day": date(2026, 11, 19), "language": "en", "stories": 2},
                                {"day": date(2026, 11, 20), "language": "<en>", "stories": 1}],
            "top_entities": [{"entity": "OTAN & <b>Co</b>", "type": "ORG", "articles": 4, "mentions": 9}],
            "new_stories": [{"story_id": 1, "title": "<script>alert(1)</script> & more", "articles": 2,
                             "languages": ["fr"], "sources": ["afp-fr"], "url": "https://example.org/a?x=1&y=2"},
                            {"story_id": 2, "title": "bad link", "articles": 1, "languages": [],
                             "sources": [], "url": "javascript:alert(1)"}],
            "growing_stories": [],
            "feed_health": {"counts": {"active": 1, "failing": 1},
                            "sources": [{"source": "x", "health": "failing", "last_status": "error",
                                         "last_polled_at": None, "failure_score": 3, "message": "<oops>"}]}}
    data.update(overrides)
    return data


def test_render_is_escaped_and_self_contained() -> None:
    page = render_report(_data())
    checker = _check(page)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "OTAN &amp; &lt;b&gt;Co&lt;/b&gt;" in page and "&lt;oops&gt;" in page and "&lt;en&gt;" in page
    assert [url for _, _, url in checker.urls] == ["https://example.org/a?x=1&y=2"]
    assert 'href="javascript' not in page
    assert checker.tags.count("svg") == 2
    assert page.count("<rect") >= 3 + 1
    assert "<style>" in page and "stylesheet" not in page


def test_render_empty_data() -> None:
    page = render_report(_data(stories_per_day=[], top_entities=[], new_stories=[], growing_stories=[],
                               feed_health={"counts": {}, "sources": []}, topic="a<b"))
    _check(page)
    assert "no new story on this day" in page and "a&lt;b" in page


def _sample_day(dsn: str) -> date:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("SELECT first_seen_at::date, count(*) FROM stories GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
        return cur.fetchone()[0]


def test_report_of_the_sample_site(samples_db: str) -> None:
    day = _sample_day(samples_db)
    data = collect_report_data(samples_db, day)
    with psycopg2.connect(samples_db) as conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("SELECT title FROM stories WHERE first_seen_at::date = %s", (day,))
        titles = [row[0] for row in cur.fetchall()]
    assert titles and len(data["new_stories"]) == len(titles)
    assert sum(r["stories"] for r in data["stories_per_day"] if r["day"] == day) == len(titles)
    assert data["feed_health"]["sources"] and len(data["days"]) == 30
    page = render_report(data)
    checker = _check(page)
    for title in titles:
        assert re.sub(r"\s+", " ", html.escape(title)) in page
    assert all(url.startswith("http://127.0.0.1") for _, _, url in checker.urls)
    assert checker.tags.count("svg") >= 1


def test_topic_restricts_the_report(samples_db: str) -> None:
    day = _sample_day(samples_db)
    with psycopg2.connect(samples_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT topic FROM topic_articles GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        topic = cur.fetchone()[0]
        cur.execute("SELECT DISTINCT story_id FROM topic_articles WHERE topic = %s", (topic,))
        stories = {row[0] for row in cur.fetchall()}
    everything = collect_report_data(samples_db, day)
    data = collect_report_data(samples_db, day, topic)
    assert {s["story_id"] for s in data["new_stories"]} <= stories
    assert len(data["new_stories"]) < len(everything["new_stories"])
    with pytest.raises(NewsmonError, match="unknown topic"):
        collect_report_data(samples_db, day, "no_such_topic")


def test_cli_writes_the_file(samples_db: str, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    day = _sample_day(samples_db).isoformat()
    result = subprocess.run([*CLI, samples_db, "report",
                             "--day", day, "--output", str(target)], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and f"newsmon report {day}" in page
    result = subprocess.run([*CLI, samples_db, "report",
                             "--topic", "nope"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and "unknown topic" in result.stderr
