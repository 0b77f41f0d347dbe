"""Full-text search in PostgreSQL: per-language stemming and accent folding, web query syntax,
filters, ranking, snippets, retractions, the trigger, and the ``search`` command end to end."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest

from newsmon.analysts.search import SearchError, SearchResults, build_query, register, search, summary_line
from newsmon.articles.hashing import content_hash
from newsmon.articles.store import ArticleCandidate
from newsmon.core.db import transaction
from newsmon.core.errors import NewsmonError
from newsmon.stories.store import load_articles

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.now(UTC)

# key: (language, title, text, days ago, source)
ARTICLES = {
    "fr_geneve": ("fr", "Négociation à Genève sur la sécurité des centrales",
                  "Les délégations ont repris jeudi la négociation sur la sécurité des centrales "
                  "nucléaires de la région. Un accord pourrait être signé avant l'hiver, selon un "
                  "diplomate présent dans la salle.", 2, "Le Quotidien Fictif"),
    "fr_meteo": ("fr", "Un été pluvieux dans les Alpes",
                 "Les stations de montagne ont accueilli moins de visiteurs cet été. Les guides "
                 "parlent d'une saison difficile et attendent l'automne avec impatience.", 3,
                 "Le Quotidien Fictif"),
    "en_sanction": ("en", "European Union adopts new sanction package",
                    "Ministers agreed on Monday on a sanction package targeting shipping firms that "
                    "carry crude oil above the price cap. The measures enter into force next week.", 20,
                    "Daily Imaginary"),
    "en_air": ("en", "Army tests new air defence system",
               "The army said the air defence system intercepted every missile during the exercise near "
               "the northern border. Officials called the results encouraging.", 1, "Daily Imaginary"),
    "en_scrambled": ("en", "Parliament debates defence budget",
                     "Lawmakers discussed the defence budget and the quality of the air in large "
                     "cities during a long session on Wednesday night.", 1, "Evening Invented"),
    "en_cairo": ("en", "Ceasefire talks resume in Cairo",
                 "Negotiators met in Cairo on Sunday to discuss a ceasefire and the release of "
                 "prisoners, two officials said.", 4, "Evening Invented"),
    "en_doha": ("en", "Ceasefire talks move to Doha",
                "The next round of negotiations on a ceasefire will take place in Doha, the mediators "
                "announced after a week of contacts.", 5, "Daily Imaginary"),
    "en_tanker": ("en", "Tanker runs aground off the coast",
                  "A tanker carrying fuel oil ran aground in heavy weather. Salvage teams expect to "
                  "refloat it within days.", 6, "Evening Invented"),
    "en_pipeline": ("en", "Gas pipeline reopens after repairs",
                    "The undersea gas pipeline reopened on Friday after two months of repairs, the "
                    "operator said in a short statement.", 6, "Evening Invented"),
    "en_title_drone": ("en", "Drones spotted over the airport",
                       "Flights were suspended for two hours on Saturday night after several sightings "
                       "were reported by pilots.", 2, "Daily Imaginary"),
    "en_body_drone": ("en", "Weekly roundup of regional news",
                      "Among other stories this week, a farmer filmed drones over his fields, the "
                      "local football club won its derby and the bakery reopened.", 2, "Daily Imaginary"),
    "de_sanktion": ("de", "Regierung unterstützt neue Sanktionen gegen Reedereien",
                    "Die Bundesregierung unterstützt die Sanktionen der Union. Die Verhandlungen über "
                    "weitere Maßnahmen sollen im Frühjahr beginnen.", 3, "Fiktive Zeitung"),
    "ru_sanktsii": ("ru", "Новые санкции против судоходных компаний",
                    "Министерство заявило, что новые санкции затронут десятки танкеров и вступят в "
                    "силу на следующей неделе.", 3, "Вымышленные Вести"),
    "retracted": ("en", "Submarine sighted in the harbour",
                  "Residents reported a submarine in the harbour on Tuesday morning; the navy later "
                  "denied the report.", 1, "Daily Imaginary"),
}


@pytest.fixture
def corpus(db: str) -> dict[str, int]:
    """The articles above loaded through stories.store.load_articles; returns key -> article id."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        sources = {}
        for name in sorted({a[4] for a in ARTICLES.values()}):
            cur.execute("INSERT INTO sources (name, url) VALUES (%s, %s) RETURNING id",
                        (name, f"https://{abs(hash(name))}.example/feed"))
            sources[name] = cur.fetchone()[0]
    conn.close()
    candidates = []
    for key, (lang, title, text, days, source) in ARTICLES.items():
        when = NOW - timedelta(days=days)
        url = f"https://news.example/{key}"
        candidates.append(ArticleCandidate(
            canonical_url=url, url=url, source_id=sources[source], title=title, text=text, author=None,
            language=lang, language_prob=1.0, language_method="detected", published_at=when,
            fetched_at=when, content_hash=content_hash(text), text_source="page", extraction_status="ok"))
    with transaction(db) as conn:
        outcomes = load_articles(conn, candidates)
    ids = {key: o.article_id for key, o in zip(ARTICLES, outcomes, strict=True)}
    assert len(set(ids.values())) == len(ARTICLES)
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE articles SET retracted_at = now(), pub_status = 'canceled' WHERE id = %s",
                    (ids["retracted"],))
        cur.execute("""INSERT INTO article_topics (article_id, topic, score, matched) VALUES
                       (%s, 'sanctions', 0.9, true), (%s, 'sanctions', 0.8, true),
                       (%s, 'sanctions', 0.2, false)""",
                    (ids["en_sanction"], ids["de_sanktion"], ids["ru_sanktsii"]))
    conn.close()
    return ids


def _ids(result: SearchResults) -> list[int]:
    return [h.article_id for h in result.hits]


def test_french_accents_are_folded(db: str, corpus: dict[str, int]) -> None:
    assert _ids(search(db, "securite")) == [corpus["fr_geneve"]]
    assert _ids(search(db, "sécurité")) == [corpus["fr_geneve"]]
    assert _ids(search(db, "Geneve", language="fr")) == [corpus["fr_geneve"]]


def test_stemming_follows_each_language(db: str, corpus: dict[str, int]) -> None:
    assert _ids(search(db, "négociations", language="fr")) == [corpus["fr_geneve"]]
    assert _ids(search(db, "sanctions", language="en")) == [corpus["en_sanction"]]
    assert _ids(search(db, "Sanktion", language="de")) == [corpus["de_sanktion"]]
    assert _ids(search(db, "санкциями", language="ru")) == [corpus["ru_sanktsii"]]
    # Without a language each article is matched in its own configuration.
    assert set(_ids(search(db, "sanctions"))) == {corpus["en_sanction"]}
    assert set(_ids(search(db, "négociations"))) == {corpus["fr_geneve"]}


def test_web_syntax_phrase_or_and_exclusion(db: str, corpus: dict[str, int]) -> None:
    assert set(_ids(search(db, "air defence"))) == {corpus["en_air"], corpus["en_scrambled"]}
    assert _ids(search(db, '"air defence"')) == [corpus["en_air"]]
    assert set(_ids(search(db, "tanker OR pipeline", language="en"))) == {corpus["en_tanker"],
                                                                          corpus["en_pipeline"]}
    assert set(_ids(search(db, "ceasefire"))) == {corpus["en_cairo"], corpus["en_doha"]}
    assert _ids(search(db, "ceasefire -Doha")) == [corpus["en_cairo"]]


def test_language_filter(db: str, corpus: dict[str, int]) -> None:
    assert _ids(search(db, "sanctions", language="fr")) == []
    hits = search(db, "Reedereien", language="de")
    assert _ids(hits) == [corpus["de_sanktion"]] and hits.hits[0].language == "de"
    assert _ids(search(db, "Reedereien", language="en")) == []


def test_topic_source_and_since_filters(db: str, corpus: dict[str, int]) -> None:
    assert set(_ids(search(db, "ceasefire", source="Evening Invented"))) == {corpus["en_cairo"]}
    assert _ids(search(db, "ceasefire", source="No Such Source")) == []
    assert set(_ids(search(db, "sanctions OR Sanktionen OR санкции", topic="sanctions"))) == {
        corpus["en_sanction"], corpus["de_sanktion"]}  # the Russian one is scored but not matched
    assert set(_ids(search(db, "sanctions OR Sanktionen OR санкции"))) == {
        corpus["en_sanction"], corpus["de_sanktion"], corpus["ru_sanktsii"]}
    recent = search(db, "sanctions OR Sanktionen", since=NOW - timedelta(days=7))
    assert _ids(recent) == [corpus["de_sanktion"]]
    assert _ids(search(db, "ceasefire", since=(NOW - timedelta(days=4, hours=12)).date())) in (
        [corpus["en_cairo"]], [corpus["en_cairo"], corpus["en_doha"]])


def test_title_hit_outranks_body_only_hit(db: str, corpus: dict[str, int]) -> None:
    result = search(db, "drones")
    hits = result.hits
    assert _ids(result) == [corpus["en_title_drone"], corpus["en_body_drone"]]
    assert hits[0].rank > hits[1].rank > 0


def test_hit_fields_and_snippet(db: str, corpus: dict[str, int]) -> None:
    (hit,) = search(db, "farmer").hits
    assert hit.article_id == corpus["en_body_drone"]
    assert hit.source == "Daily Imaginary" and hit.language == "en"
    assert hit.url == "https://news.example/en_body_drone"
    assert hit.title == "Weekly roundup of regional news"
    assert hit.published is not None and hit.story_id is not None
    assert "**farmer**" in hit.snippet
    (hit,) = search(db, "securite").hits
    assert "**sécurité**" in hit.snippet


def test_limit(db: str, corpus: dict[str, int]) -> None:
    result = search(db, "the OR said OR ceasefire OR drones", limit=2)
    assert len(result.hits) == 2 and result.matches > 2 and not result.windowed
    with pytest.raises(SearchError):
        search(db, "drones", limit=0)


def test_retracted_articles_are_hidden(db: str, corpus: dict[str, int]) -> None:
    assert search(db, "submarine").hits == []
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE articles SET retracted_at = NULL WHERE id = %s", (corpus["retracted"],))
    conn.close()
    assert _ids(search(db, "submarine")) == [corpus["retracted"]]


def test_trigger_keeps_vector_current(db: str, corpus: dict[str, int]) -> None:
    article = corpus["en_tanker"]
    assert search(db, "icebreaker").hits == []
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE articles SET text = 'An icebreaker freed the stranded vessel.' WHERE id = %s",
                    (article,))
    conn.close()
    assert _ids(search(db, "icebreaker")) == [article]
    assert _ids(search(db, "salvage")) == []  # the old text is gone from the vector
    assert _ids(search(db, "tanker", language="en")) == [article]  # the title is still indexed
    with psycopg2.connect(db) as conn, conn.cursor() as cur:  # a language change re-stems
        cur.execute("UPDATE articles SET language = 'und' WHERE id = %s", (article,))
        cur.execute("SELECT vector::text, config::text FROM article_search WHERE article_id = %s", (article,))
        vector, config = cur.fetchone()
        assert "'stranded'" in vector and config == "newsmon_simple"
    conn.close()


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_is_a_clear_error(db: str, query: str) -> None:
    with pytest.raises(NewsmonError, match="query is empty") as info:
        search(db, query)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("language", "indexes"), [
    (None, {"article_search_french", "article_search_english", "article_search_german",
            "article_search_spanish", "article_search_russian", "article_search_simple"}),
    ("fr", {"article_search_french"}),
])
def test_partial_gin_indexes_answer_without_recheck(db: str, corpus: dict[str, int], language: str | None,
                                                     indexes: set[str]) -> None:
    """Each configuration's partial index is probed and no candidate's vector is re-read: no
    ``Filter`` on the vector (that recheck detoasted every match and dominated common terms)."""
    sql, params = build_query("sécurité", language=language)
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    conn.close()
    used = {name for name in indexes if f"on {name}" in plan}
    assert used == indexes, plan
    filters = [line for line in plan.splitlines() if "Filter:" in line and "@@" in line]
    assert not filters, plan


def test_rank_window_ranks_only_the_most_recent_matches(db: str, corpus: dict[str, int]) -> None:
    # "defence" matches en_air (title and text, 1 day old) and en_scrambled (body, 1 day old);
    # "ceasefire" matches en_cairo (4 days) and en_doha (5 days): both titles, same rank order.
    everything = search(db, "ceasefire OR defence", rank_window=0)
    assert everything.matches == 4 and everything.ranked == 4 and not everything.windowed
    windowed = search(db, "ceasefire OR defence", rank_window=2)
    assert windowed.matches == 4 and windowed.ranked == 2 and windowed.windowed
    assert set(_ids(windowed)) == {corpus["en_air"], corpus["en_scrambled"]}  # the two newest
    assert set(_ids(everything)) == {corpus["en_air"], corpus["en_scrambled"], corpus["en_cairo"],
                                     corpus["en_doha"]}
    assert "4 matching article(s)" in summary_line(windowed) and "2 most recent" in summary_line(windowed)
    assert "most recent" not in summary_line(everything)
    assert search(db, "ceasefire", rank_window=None).ranked == 2
    with pytest.raises(SearchError, match="rank window"):
        search(db, "ceasefire", rank_window=-1)


def test_retraction_and_deletion_leave_the_search_table(db: str, corpus: dict[str, int]) -> None:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM article_search WHERE article_id = %s", (corpus["retracted"],))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM article_search")
        assert cur.fetchone()[0] == len(ARTICLES) - 1
        cur.execute("DELETE FROM article_topics WHERE article_id = %s", (corpus["en_tanker"],))
        cur.execute("DELETE FROM articles WHERE id = %s", (corpus["en_tanker"],))
        cur.execute("SELECT count(*) FROM article_search WHERE article_id = %s", (corpus["en_tanker"],))
        assert cur.fetchone()[0] == 0
    conn.close()


def test_source_and_date_changes_follow_into_the_search_table(db: str, corpus: dict[str, int]) -> None:
    article = corpus["en_cairo"]
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE articles SET published_at = %s, source_id = (SELECT id FROM sources "
                    "WHERE name = 'Daily Imaginary') WHERE id = %s", (NOW - timedelta(days=40), article))
    conn.close()
    assert _ids(search(db, "ceasefire", source="Evening Invented")) == []
    assert _ids(search(db, "ceasefire", source="Daily Imaginary")) == [corpus["en_doha"], article]
    assert _ids(search(db, "ceasefire", since=NOW - timedelta(days=30))) == [corpus["en_doha"]]


def test_register_adds_the_search_subcommand() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["search", "drones OR tanker", "--lang", "en", "--since", "7d",
                              "--topic", "t", "--source", "s", "--limit", "5"])
    assert (args.query, args.lang, args.topic, args.source, args.limit) == ("drones OR tanker", "en", "t",
                                                                            "s", 5)
    assert NOW - timedelta(days=7, minutes=1) < args.since < NOW - timedelta(days=6, hours=23)
    assert parser.parse_args(["search", "x", "--since", "2026-01-02"]).since == datetime(2026, 1, 2,
                                                                                        tzinfo=UTC)
    with pytest.raises(SystemExit):
        parser.parse_args(["search", "x", "--since", "last tuesday"])


def _run(db: str, *args: str, module: str = "newsmon") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    return subprocess.run([sys.executable, "-m", module, "--database-url", db, "search", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


def test_cli_end_to_end(db: str, corpus: dict[str, int]) -> None:
    result = _run(db, "securite", "--lang", "fr", "--since", "7d")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Négociation à Genève" in out and "**sécurité**" in out and "<b>" not in out
    assert "Le Quotidien Fictif" in out and "https://news.example/fr_geneve" in out
    assert out.splitlines()[0].split()[:3] == ["#", "rank", "published"]

    result = _run(db, "drones", "--source", "Daily Imaginary", "--limit", "1")
    assert result.returncode == 0, result.stderr
    assert "Drones spotted over the airport" in result.stdout and "Weekly roundup" not in result.stdout

    result = _run(db, "zeppelin")
    assert result.returncode == 0 and "no article matches" in result.stdout

    result = _run(db, "  ")
    assert result.returncode == 2 and "query is empty" in result.stderr


def test_cli_wired_into_newsmon(db: str, corpus: dict[str, int]) -> None:
    result = _run(db, "ceasefire -Doha", module="newsmon")
    assert result.returncode == 0, result.stderr
    assert "Ceasefire talks resume in Cairo" in result.stdout and "Doha" not in result.stdout


def test_upgrade_moves_existing_vectors_to_the_search_table(pg_server: str, tmp_path: Path) -> None:
    """A database migrated before sql/0011 keeps every article searchable after it: the vectors
    move to article_search (retracted articles left out) and the old column is gone."""
    import shutil
    import uuid

    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import SQL_DIR, migrate

    before = tmp_path / "sql"
    before.mkdir()
    for path in sorted(SQL_DIR.glob("*.sql")):
        if path.name < "0011":
            shutil.copy(path, before / path.name)
    name = f"newsmon_test_upgrade_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server, name)
    try:
        migrate(url, before)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO articles (canonical_url, url, title, text, language, text_source,
                                                 extraction_status, retracted_at)
                           VALUES ('https://x.example/1', 'https://x.example/1', 'Brise-glace à Mourmansk',
                                   'Un brise-glace a quitté le port.', 'fr', 'page', 'ok', NULL),
                                  ('https://x.example/2', 'https://x.example/2', 'Icebreaker retracted',
                                   'An icebreaker story later withdrawn.', 'en', 'page', 'ok', now())""")
            cur.execute("SELECT search_vector::text FROM articles WHERE url = 'https://x.example/1'")
            old_vector = cur.fetchone()[0]
        conn.close()
        migrate(url)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT a.url, s.vector::text, s.config::text FROM article_search s "
                        "JOIN articles a ON a.id = s.article_id")
            assert cur.fetchall() == [("https://x.example/1", old_vector, "newsmon_french")]
            cur.execute("SELECT count(*) FROM information_schema.columns "
                        "WHERE table_name = 'articles' AND column_name = 'search_vector'")
            assert cur.fetchone()[0] == 0
        conn.close()
        result = search(url, "brise-glace")
        assert [h.url for h in result.hits] == ["https://x.example/1"] and result.matches == 1
    finally:
        drop_database(pg_server, name)


def test_unchanged_values_do_not_rewrite_the_search_row(db: str, corpus: dict[str, int]) -> None:
    """Loads name title, text, status columns with unchanged values (a status update, a page seen
    again): the search row is left alone rather than re-parsed; a real change rewrites it."""
    article = corpus["en_pipeline"]

    def row_version(cur) -> str:
        cur.execute("SELECT xmin::text FROM article_search WHERE article_id = %s", (article,))
        return cur.fetchone()[0]

    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        before = row_version(cur)
        cur.execute("UPDATE articles SET title = title, text = text, language = language, "
                    "published_at = published_at, source_id = source_id, retracted_at = retracted_at "
                    "WHERE id = %s", (article,))
        conn.commit()
        assert row_version(cur) == before
        cur.execute("UPDATE articles SET title = 'Gas pipeline reopens' WHERE id = %s", (article,))
        conn.commit()
        assert row_version(cur) != before
    conn.close()
