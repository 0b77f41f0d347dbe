"""Events: stories of one happening, in several languages, become one event; in PostgreSQL
through the real stages (stories, tagging, events), in memory for the evaluation."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from benchmarks.eval_events import cluster, evaluate, pairwise, written_set
from newsmon.articles.hashing import content_hash
from newsmon.articles.store import ArticleCandidate
from newsmon.core.config import Settings
from newsmon.core.db import transaction
from newsmon.events.cluster import MemoryBackend, Params, assign
from newsmon.events.evidence import StoryEvidence, dates_and_numbers, proper_names, story_evidence
from newsmon.pipeline.tasks import assign_events, tag_articles
from newsmon.stories.neardup import fingerprint
from newsmon.stories.store import load_articles

T0 = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)


def _rows(db: str, sql: str, *args: object) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _candidate(url: str, title: str, text: str, lang: str, at: datetime) -> ArticleCandidate:
    return ArticleCandidate(
        canonical_url=url, url=url, source_id=None, title=title, text=text, author=None, language=lang,
        language_prob=1.0, language_method="declared", published_at=at, fetched_at=at,
        content_hash=content_hash(text), text_source="page", extraction_status="ok",
        fingerprint=fingerprint(text))


def _load_written(db: str, ids: set[str] | None = None) -> dict[str, str]:
    """Load the written eval articles (or some) as articles; {eval id: canonical url}."""
    docs, _ = written_set()
    chosen = [d for d in docs if ids is None or d["id"] in ids]
    with transaction(db) as conn:
        load_articles(conn, [_candidate(f"https://eval.example/{d['id']}", d["title"], d["text"], d["lang"],
                                        d["at"]) for d in chosen])
    return {d["id"]: f"https://eval.example/{d['id']}" for d in chosen}


def _event_of(db: str) -> dict[str, int]:
    return {url.rsplit("/", 1)[-1]: event for url, event in _rows(
        db, "SELECT a.canonical_url, s.event_id FROM articles a JOIN stories s ON s.id = a.story_id")}


# -- evidence --------------------------------------------------------------------------------------

def test_dates_and_numbers_do_not_depend_on_the_language() -> None:
    for text in ("on 10 September, 1,200 troops", "le 10 septembre, 1 200 soldats",
                 "10 września, 1200 żołnierzy", "am 10. September 1.200 Soldaten", "September 10: 1,200"):
        dates, numbers = dates_and_numbers(text)
        assert set(dates) == {"d:09-10"}, text
        assert set(numbers) == {"n:1200"}, text
    assert dates_and_numbers("3,5 % du PIB, 3.5% of GDP, in 2026, 7 drones")[1].keys() == {"n:3.5"}


def test_proper_names_are_stems_outside_entities_and_sentence_starts() -> None:
    text = "Debris fell in Wyryki. Officials in Wyrykach said so."
    assert set(proper_names(text, language="en")) == {"w:wyryk"}
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("Wyryki", "Wyrykach")]
    assert proper_names(text, covered=spans, language="en") == {}
    assert proper_names("Die Drohnen trafen Wyryki und Häuser.", language="de") == {}


def test_story_evidence_uses_entity_ids_and_concepts() -> None:
    ev = story_evidence(1, T0, "fr", "Poutine à Minsk", "Texte.",
                        [{"name": "Vladimir Putin", "wikidata": "Q7747", "type": "PER", "mentions": 2,
                          "in_title": True, "first_sentence": None, "occurrences": []},
                         {"name": "Minsk", "wikidata": None, "type": "LOC", "mentions": 1,
                          "in_title": True, "first_sentence": None, "occurrences": []}],
                        [("nuclear", 1.0)], {"nato_russia": (0.7, True)})
    assert ev.keys["e:Q7747"] == 1.0 and "e:Minsk" in ev.keys and "c:nuclear" in ev.keys
    assert ev.topic == "nato_russia" and ev.topic_score == 0.7


# -- assignment (memory) ---------------------------------------------------------------------------

def _story(story_id: int, keys: str, hours: float = 0.0) -> StoryEvidence:
    return StoryEvidence(story_id, T0 + timedelta(hours=hours), "en", {f"e:{k}": 1.0 for k in keys})


def test_a_story_joins_the_event_it_shares_evidence_with_and_why_is_kept() -> None:
    backend = MemoryBackend()
    links = assign([_story(1, "abcd"), _story(2, "abce", 3), _story(3, "wxyz", 4)], backend)
    by_story = {link.story_id: link for link in links}
    assert by_story[1].event_id == by_story[2].event_id != by_story[3].event_id
    why = by_story[2].why
    assert why["decision"] == "joined" and why["score"] >= Params().threshold
    assert {s["key"] for s in why["shared"]} == {"e:a", "e:b", "e:c"}
    assert by_story[3].why["decision"] == "new"


def test_time_window_keeps_far_stories_apart() -> None:
    backend = MemoryBackend()
    assign([_story(1, "abcd")], backend)
    assign([_story(2, "abcd", 24 * 5)], backend)  # five days later: outside the 48 h window
    assert backend.event_of[1] != backend.event_of[2]
    assign([_story(3, "abcd", 24 * 5 + 1)], backend, Params(window_hours=24 * 7, max_span_hours=24 * 8))
    assert backend.event_of[3] in (backend.event_of[1], backend.event_of[2])


def test_an_event_splits_when_later_members_pull_it_apart() -> None:
    """S2 joined on keys a, b; later stories move the event to c..f: S2 leaves, and the split is
    recorded with the score that decided it."""
    backend = MemoryBackend()
    params = Params(threshold=0.2)
    assign([_story(1, "abcd"), _story(2, "ab", 1)], backend, params)
    assert backend.event_of[1] == backend.event_of[2]
    assign([_story(3, "cdef", 2)], backend, params)
    assert backend.event_of[2] == backend.event_of[1] == backend.event_of[3]  # not yet
    assign([_story(n, "cdef", 2 + n) for n in range(4, 9)], backend, params)
    assert backend.event_of[2] != backend.event_of[1]
    assert {backend.event_of[n] for n in (1, 3, 4, 5, 6, 7, 8)} == {backend.event_of[1]}
    (split,) = backend.splits
    assert split.story_id == 2 and split.from_event == backend.event_of[1]
    assert split.why["leave_one_out_score"] < Params().split_threshold
    assert backend.events[backend.event_of[1]].stories == 7


# -- evaluation floors (a little under what `make eval` measures) -----------------------------------

def test_written_evaluation_set_meets_its_floors() -> None:
    docs, gold = written_set()
    assert len(docs) >= 150 and len(set(gold.values())) >= 25
    assert len({d["lang"] for d in docs}) >= 3
    result = pairwise(docs, gold, cluster(docs))
    assert result["same_language"]["precision"] >= 0.90
    assert result["same_language"]["recall"] >= 0.93
    assert result["cross_language"]["precision"] >= 0.97
    assert result["cross_language"]["recall"] >= 0.95


def test_real_items_evaluation_meets_its_floors(shared_corpus) -> None:
    result = evaluate()["real_items"]
    assert result["articles"] > 100
    # floors a little under what `make eval` measures (short feed items share few keys: recall is
    # low, and the entities every item of a day names — Russia, Poland, NATO — cost precision)
    assert result["cross_language"]["precision"] >= 0.62
    assert result["cross_language"]["recall"] >= 0.58
    assert result["same_language"]["precision"] >= 0.74
    assert result["same_language"]["recall"] >= 0.33


# -- PostgreSQL, through the real stages ------------------------------------------------------------

def test_pipeline_places_stories_in_events_like_the_evaluation(db: str) -> None:
    """Stories of the written set, loaded, tagged and assigned in PostgreSQL, form the same events
    as the in-memory evaluation; the view tells languages and sizes; a rerun changes nothing."""
    events = ["E01", "E02", "E03", "E04", "E05", "E06"]
    docs, gold = written_set()
    chosen = [d for d in docs if gold[d["id"]] in events]
    _load_written(db, {d["id"] for d in chosen})
    settings = Settings(database_url=db, ner="off")
    tag_articles(settings)
    counts = assign_events(settings)
    assert counts["stories"] == len(chosen)
    stored = _event_of(db)
    backend = MemoryBackend()
    from benchmarks.eval_events import _evidence
    assign([_evidence(n, d["at"], d["lang"], d["title"], d["text"]) for n, d in enumerate(chosen, 1)],
           backend)
    memory = {d["id"]: backend.event_of[n] for n, d in enumerate(chosen, 1)}
    partition = lambda m: sorted(sorted(k for k in m if m[k] == v) for v in set(m.values()))  # noqa: E731
    assert partition(stored) == partition(memory)
    assert assign_events(settings)["stories"] == 0  # nothing left to place
    e01 = stored["e01-en-1"]
    langs, stories = _rows(db, "SELECT languages, stories FROM event_overview WHERE event_id = %s", e01)[0]
    assert set(langs) >= {"en", "fr", "de"} and stories >= 4
    coverage = dict(_rows(db, "SELECT language, articles FROM event_language_coverage "
                              "WHERE event_id = %s", e01))
    assert set(coverage) == set(langs) and coverage["en"] >= 2
    # every event is titled after its earliest story
    untitled = _rows(db, "SELECT count(*) FROM events e WHERE title IS DISTINCT FROM ("
                         "SELECT s.title FROM event_stories es JOIN stories s ON s.id = es.story_id "
                         "WHERE es.event_id = e.id ORDER BY es.seen_at, es.story_id LIMIT 1)")[0][0]
    assert untitled == 0
    why = _rows(db, "SELECT why FROM event_stories es JOIN stories s ON s.id = es.story_id "
                    "JOIN articles a ON a.id = s.representative_article_id "
                    "WHERE a.canonical_url = 'https://eval.example/e01-fr-1'")[0][0]
    assert why["decision"] == "joined" and why["shared"]
    assert _rows(db, "SELECT count(*) FROM event_keys WHERE event_id = %s", e01)[0][0] > 0


def test_a_copy_of_an_article_stays_in_its_story_and_event(db: str) -> None:
    """A near-duplicate joins the story, and the story is never split from its event."""
    _load_written(db, {"e14-en-1", "e14-fr-1"})
    settings = Settings(database_url=db, ner="off")
    tag_articles(settings)
    assign_events(settings)
    docs = {d["id"]: d for d in written_set()[0]}
    copy = docs["e14-en-1"]
    with transaction(db) as conn:
        (outcome,) = load_articles(conn, [_candidate("https://copy.example/1", copy["title"],
                                                     "Updated. " + copy["text"], "en",
                                                     copy["at"] + timedelta(hours=1))])
    assert not outcome.story_new
    tag_articles(settings)
    assert assign_events(settings)["stories"] == 0  # the story already has its event
    split = _rows(db, """SELECT count(*) FROM (SELECT a.story_id FROM articles a JOIN stories s
                         ON s.id = a.story_id GROUP BY a.story_id HAVING count(DISTINCT s.event_id) > 1) x""")
    assert split == [(0,)]
    assert _rows(db, "SELECT articles FROM event_overview WHERE event_id = "
                     "(SELECT event_id FROM stories WHERE id = %s)", outcome.story_id) == [(3,)]


def test_concurrent_batches_give_one_event(db: str) -> None:
    """Two workers placing two reports of one happening at the same time: one event."""
    _load_written(db, {"e08-en-1", "e08-fr-1"})
    settings = Settings(database_url=db, ner="off")
    tag_articles(settings)
    story_ids = [r[0] for r in _rows(db, "SELECT id FROM stories ORDER BY id")]
    from newsmon.events.store import assign_stories

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(story_id: int) -> None:
        try:
            barrier.wait()
            with transaction(db) as conn:
                assign_stories(conn, [story_id])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in story_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r[0] for r in _rows(db, "SELECT event_id FROM stories")}) == 1
    assert _rows(db, "SELECT count(*) FROM events") == [(1,)]


def test_events_cli_lists_events_by_language(db: str, capsys) -> None:
    from newsmon.cli import main

    _load_written(db, {"e20-en-1", "e20-fr-1", "e20-pl-1", "e21-en-1"})
    settings = Settings(database_url=db, ner="off")
    tag_articles(settings)
    assign_events(settings)
    assert main(["--database-url", db, "events", "--lang", "pl"]) == 0
    out = capsys.readouterr().out
    assert "21st sanctions" in out and "140-billion" not in out
    assert main(["--database-url", db, "events", "--since", "2026-10-21"]) == 0
    out = capsys.readouterr().out
    assert "140-billion" in out and "21st sanctions" not in out


def test_report_shows_events(db: str) -> None:
    from newsmon.analysts.htmlreport import collect_report_data, render_report

    _load_written(db, {"e20-en-1", "e20-fr-1"})
    settings = Settings(database_url=db, ner="off")
    tag_articles(settings)
    assign_events(settings)
    data = collect_report_data(db, day=datetime(2026, 10, 20).date())
    assert len(data["events"]) == 1 and data["events"][0]["stories"] == 2
    html = render_report(data)
    assert "Events of the day (1)" in html and "en, fr" in html


def test_per_event_rule_alerts_once_per_event(db: str, tmp_path) -> None:
    """Two rules on the same stories: per story alerts twice, per event once; a later story of
    the event in another language adds no alert."""
    from newsmon.alerts.outbox import enqueue_alerts
    from newsmon.alerts.rules import parse_alert_config

    config = parse_alert_config({
        "channels": [{"name": "f", "kind": "file", "target": str(tmp_path / "out.jsonl")}],
        "rules": [{"name": "stories", "topic": "nato_russia", "min_score": 0.0, "channels": ["f"]},
                  {"name": "events", "topic": "nato_russia", "min_score": 0.0, "channels": ["f"],
                   "per": "event"}]})
    _load_written(db, {"e01-en-1", "e01-fr-1"})
    settings = Settings(database_url=db, ner="off")
    tag_articles(settings)
    assign_events(settings)
    now = T0 + timedelta(days=1)
    with psycopg2.connect(db) as conn, conn.cursor() as cur:  # the lookback counts from creation time
        cur.execute("UPDATE stories SET created_at = %s", (T0,))
    enqueue_alerts(settings, config, now=now)
    assert dict(_rows(db, "SELECT rule, count(*) FROM alerts GROUP BY rule")) == {"stories": 2, "events": 1}
    _load_written(db, {"e01-pl-1", "e01-de-1"})
    tag_articles(settings)
    assign_events(settings)
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE stories SET created_at = %s", (T0,))
    enqueue_alerts(settings, config, now=now)
    counts = dict(_rows(db, "SELECT rule, count(*) FROM alerts GROUP BY rule"))
    assert counts["events"] == 1 and counts["stories"] >= 3
    payload = _rows(db, "SELECT payload FROM alerts WHERE rule = 'events'")[0][0]
    assert json.loads(json.dumps(payload))["event_id"] is not None


def test_per_is_validated() -> None:
    from newsmon.alerts.rules import parse_alert_config
    from newsmon.core.errors import ConfigError

    with pytest.raises(ConfigError, match="field 'per'"):
        parse_alert_config({"channels": [{"name": "f", "kind": "file", "target": "x.jsonl"}],
                            "rules": [{"name": "r", "topic": "t", "channels": ["f"], "per": "day"}]})


def test_events_cli_rejects_a_negative_limit(capsys) -> None:
    from newsmon.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["events", "--limit", "-1"])
    assert stop.value.code == 2
    assert "--limit" in capsys.readouterr().err
