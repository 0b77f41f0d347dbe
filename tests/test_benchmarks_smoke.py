"""Smoke tests of the scale-out benchmarks: each ``main()`` at a tiny size, its JSON checked for
the expected keys and positive numbers. No timing assertions (the figures belong in
``benchmarks/README.md``, measured with the default sizes)."""

from __future__ import annotations

import json
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


def test_bench_events_smoke(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = _run_json(bench_events.main, ["--sizes", "2000,4000"], capsys)
    assert [r["stored_events"] for r in result["results"]] == [2000, 4000]
    assert all(r["index_rows"] > 0 and r["per_story_ms"] > 0 for r in result["results"])
    assert result["ratio"] > 0 and result["batch_of_500_at_largest_s"] > 0
