"""Smoke tests of every benchmark of ``make bench``: each ``main()`` at a tiny size (a few seconds),
checked to run and report its figures (the JSON keys, or the lines of the printed report), so none
can rot unnoticed. No timing assertions: the figures belong in ``benchmarks/README.md``, measured
with the default sizes by ``make bench``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_events, bench_partitioning, bench_pipeline


@pytest.fixture
def server(pg_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test server, for the benchmarks' own ``find_server()`` (they create throwaway databases)."""
    monkeypatch.setenv("NEWSMON_PG_SERVER_URL", pg_server)
    return pg_server


def _run_json(main: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_bench_partitioning_smoke(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = _run_json(bench_partitioning.main, ["--articles", "2000", "--months", "4", "--repeat", "2"],
                       capsys)
    assert result["articles"] == 2000
    assert set(result["queries"]) == {
        "topic_24h_view", "topic_24h_pruned", "topic_7d_view", "topic_7d_pruned", "month_aggregate_view",
        "month_aggregate_pruned", "lookup_canonical_url", "dedup_lookup_100", "insert_100"}
    for timings in result["queries"].values():
        for layout in ("single", "partitioned"):
            assert timings[layout]["p50_ms"] > 0
    assert result["queries"]["lookup_canonical_url"]["single"]["rows"] == 1
    assert result["queries"]["lookup_canonical_url"]["partitioned"]["rows"] == 1
    assert result["size_mb"]["single"] > 0 and result["size_mb"]["partitioned"] > 0
    retention = result["retention"]
    assert retention["single_deleted"] == retention["articles_in_month"] > 0
    assert retention["single_total_s"] > 0 and retention["partitioned_detach_drop_s"] > 0
    # the pruning form touches fewer partitions than the view form
    plans = result["plans"]
    assert plans["topic_24h_pruned"]["article_partitions_in_plan"] < \
        plans["topic_24h_view"]["article_partitions_in_plan"]
    assert {row["what"] for row in result["verdict"]} >= {"lookup_canonical_url",
                                                          "retention: drop oldest month"}


def test_bench_pipeline_smoke(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a corpus folder that does not exist: the sample site's pages, as in a clone without ../shared
    result = _run_json(bench_pipeline.main, ["--articles", "60", "--workers", "1,2", "--feeds", "3",
                                             "--hosts", "2", "--corpus", str(tmp_path / "none")], capsys)
    assert result["articles"] == 60
    assert "samples/site" in result["corpus"]
    assert [p["workers"] for p in result["phases"]] == [1, 2]
    for phase in result["phases"]:
        assert phase["articles_new"] == 60
        assert phase["articles_from_page"] > 50  # a few sample pages are not articles
        assert phase["articles_tagged"] == 60
        assert phase["fetch_failures"] == 0
        assert set(phase["stage_seconds_recorded"]) == {"poll", "process", "tag"}
        for key in ("articles_per_hour_total", "articles_per_hour_per_worker",
                    "process_articles_per_hour_total", "process_articles_per_hour_per_worker"):
            assert phase[key] > 0
        assert all(phase["wall_seconds"][k] > 0 for k in ("poll", "process", "tag", "total"))
    assert result["scaling"]["1"] == 1.0


# --- the throughput benchmarks of `make bench`, at a tiny size: each runs and prints its figures
# (the lines of its report, with numbers in them); the values are measurements, not checked here.

NUMBER = r"[\d,]+(?:\.\d+)?"


def _report(main: Any, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Traceback" not in out and "skipped" not in out, out
    return out


def _lines(out: str, *patterns: str) -> None:
    """Each pattern matches a line of the report."""
    for pattern in patterns:
        assert re.search(pattern, out, re.MULTILINE), f"no line matching {pattern!r} in:\n{out}"


def test_bench_processing_smoke(server: str, shared_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_processing

    out = _report(bench_processing.main, ["--pages", "3", "--rounds", "1", "--no-pin",
                                          "--corpus", str(shared_corpus / "article-extraction-benchmark")],
                  capsys)
    _lines(out, r"^processing throughput: 3 pages x 1 rounds, one process .*not pinned",
           rf"^newsmon processing\s+{NUMBER}\s+{NUMBER}$",
           rf"^  extract_article\s+{NUMBER}$", rf"^  detect_language\s+{NUMBER}$",
           rf"^  load_articles \+ commit \(per 100\)\s+{NUMBER}$",
           rf"^trafilatura extract\(\) defaults\s+{NUMBER}\s+{NUMBER}$",
           r"^rows inserted: [1-3] \(loads: new [1-3]\)",
           rf"^ratio newsmon / trafilatura: {NUMBER}\s+target ratio >= 0.8: (PASS|FAIL)$")


def test_bench_dedup_smoke(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_dedup

    out = _report(bench_dedup.main, ["--sizes", "200,400", "--articles", "20"], capsys)
    _lines(out, r"^dedup cost per new article .*shared_buffers \S+\):$",
           rf"^\s+200 stored fingerprints: {NUMBER} ms/article, of which the LSH lookup alone {NUMBER}",
           rf"^\s+400 stored fingerprints: {NUMBER} ms/article",
           rf"^lookup ratio 400 / 200: {NUMBER}$",
           rf"^ratio 400 / 200: {NUMBER} \(target < 1.5: (PASS|FAIL)\); worker peak memory {NUMBER} MB$")


def test_bench_polling_smoke(capsys: pytest.CaptureFixture[str], server: str) -> None:
    from benchmarks import bench_polling

    # one feed per loopback host: the 1 s per-host interval costs one wait, on the second poll
    out = _report(bench_polling.main, ["--feeds", "4", "--items", "3", "--hosts", "4", "--workers", "2"],
                  capsys)
    _lines(out, r"^polling 4 feeds x 3 items on 4 loopback hosts, 2 workers",
           # the counts follow from the sizes: 4 x 3 new items, then feed 0 changed (3 new), 3 x 304
           rf"^  first poll\s+{NUMBER} s\s+4 requests\s+{NUMBER} req/s\s+"
           r"304:\s+0\s+failed: 0\s+new entries: 12$",
           rf"^  second poll \(10% changed\)\s+{NUMBER} s\s+4 requests\s+{NUMBER} req/s\s+"
           r"304:\s+3\s+failed: 0\s+new entries: 3$",
           rf"^second poll {NUMBER} s \(target < 60 s: (PASS|FAIL)\)$")


def test_bench_tagging_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_tagging

    out = _report(bench_tagging.main, ["--articles", "8", "--size", "400", "--repeat", "1"], capsys)
    _lines(out, r"^tagging throughput, single process, 8 articles of ~\d+ chars",
           rf"^  gazetteer: \d+ entities loaded and validated in {NUMBER} s, automaton built in {NUMBER} s "
           r"\(target < 1 s: (ok|ABOVE TARGET)\)$",
           rf"^  tag \+ entities \+ terms \+ topic scores \(\d+ topics\): {NUMBER} articles/s median, "
           rf"{NUMBER} best",
           rf"^  tag alone: {NUMBER} articles/s$",
           rf"^  YAKE key phrases: {NUMBER} articles/s \({NUMBER} ms/article, 8 articles\)$",
           rf"^  spaCy NER \(fr_core_news_sm\): ({NUMBER} articles/s|not installed)$")


def test_bench_search_smoke(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_search

    out = _report(bench_search.main, ["--articles", "300", "--queries", "8"], capsys)
    _lines(out, rf"^300 articles loaded through the trigger in {NUMBER} s$",
           *(rf"^{key}\s+p50\s+{NUMBER} ms\s+p95\s+{NUMBER} ms\s+max\s+{NUMBER} ms\s+\({NUMBER} hits"
             for key in ("rare_terms", "common_terms", "common_terms_lang_fr")),
           r"^example matches: \{'rare': ", r"^target: p95 under 200 ms .*: (OK|MISSED)$")


def test_bench_export_smoke(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_export

    out = _report(bench_export.main, ["--rows", "1000"], capsys)
    _lines(out, *(rf"^{fmt}\s+1,000 rows in\s+{NUMBER} s\s+{NUMBER} rows/s\s+peak RSS {NUMBER} MB "
                  rf"\(baseline {NUMBER} MB, \+{NUMBER} MB\)$" for fmt in ("csv", "jsonl")))


def test_bench_events_smoke(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = _run_json(bench_events.main, ["--sizes", "2000,4000"], capsys)
    assert [r["stored_events"] for r in result["results"]] == [2000, 4000]
    assert all(r["index_rows"] > 0 and r["per_story_ms"] > 0 for r in result["results"])
    assert result["ratio"] > 0 and result["batch_of_500_at_largest_s"] > 0


def test_bench_import_smoke(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A two-page corpus of our own (same layout as the shared one): 8 files generated, every
    figure present, the stored text scored against the gold, languages compared."""
    import gzip

    from benchmarks import bench_import

    corpus = tmp_path / "corpus"
    (corpus / "html").mkdir(parents=True)
    gold = {}
    for number, subject in enumerate(["the harbour authority", "the regional parliament"]):
        body = " ".join(f"Sentence {i} about {subject} and its plans for year {2000 + i + number}."
                        for i in range(30))
        html = (f"<html lang='en'><head><title>Page {number}</title></head><body><nav>Home</nav>"
                f"<article><h1>Page {number}</h1><p>{body}</p></article></body></html>")
        (corpus / "html" / f"page{number}.html.gz").write_bytes(gzip.compress(html.encode()))
        gold[f"page{number}"] = {"articleBody": body}
    (corpus / "ground-truth.json").write_text(json.dumps(gold), encoding="utf-8")
    result = _run_json(bench_import.main, ["--runs", "1", "--corpus", str(corpus)], capsys)
    assert result["files"] == 8 and result["pages"] == 2
    assert set(result["wall_s"]) == {"bare", "workers1", "workers2"}
    assert all(value > 0 for value in result["wall_s"].values())
    assert result["ratio"] > 0 and result["speedup_2_workers"] > 0
    assert result["rows_stored"] >= 2
    assert result["f1_newsmon_stored"] > 0.9 and result["f1_bare"] > 0.9
    assert result["language"]["pages"]["n"] == 2 and result["language"]["pages"]["agree"] == 2
    assert "ratio newsmon (1 worker) / bare" in bench_import.format_report(result)
