"""Smoke tests of the scale-out benchmarks: each ``main()`` at a tiny size, its JSON checked for
the expected keys and positive numbers. No timing assertions (the figures belong in
``benchmarks/README.md``, measured with the default sizes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_partitioning, bench_pipeline


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
