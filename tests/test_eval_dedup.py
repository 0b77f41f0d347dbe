"""Evaluation gate for story deduplication: precision and recall of "same story" on the labeled
pairs of eval/dedup (written for this project), through LSH candidates and the same-story rule."""

from __future__ import annotations

from benchmarks.eval_dedup import evaluate


def test_dedup_quality_floors() -> None:
    """Pinned floors: precision >= 0.98 and recall >= 0.95 on >= 150 pairs in French and English."""
    result = evaluate()
    assert result["pairs"] >= 150
    assert result["precision"] >= 0.98, result["errors"]
    assert result["recall"] >= 0.95, result["errors"]
    # every kind of positive is found and every kind of hard negative kept apart, at least mostly
    assert all(accuracy >= 0.9 for accuracy in result["accuracy_by_kind"].values()), result
